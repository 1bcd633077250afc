import { counter, gauge, type MetricSource } from '../metrics/prometheus.ts'
import type { OwnershipGroup } from './ownership-group.ts'

/** The ownership group as this instance sees it. */
export function ownershipMetrics(
  group: Pick<OwnershipGroup, 'assignments' | 'generation' | 'owned'>,
): MetricSource {
  return () => [
    counter(
      'saldo_ownership_rebalances_total',
      'Assignments of the ownership group this instance received (every rebalance it took part in ends with one).',
      group.assignments,
    ),
    gauge(
      'saldo_ownership_generation',
      'Generation of the ownership group the owner map comes from; -1 before the first assignment.',
      group.generation,
    ),
    gauge(
      'saldo_owned_partitions',
      'Partitions whose writes this instance owns now (0 while rebalancing).',
      group.owned().size,
    ),
  ]
}
