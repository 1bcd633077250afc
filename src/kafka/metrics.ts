import { REJECT_REASONS } from '../balance.ts'
import { counter, gauge, type MetricFamily, type MetricSource } from '../metrics/prometheus.ts'
import type { ApplyNumbers } from './apply-numbers.ts'
import type { Summary } from './summary.ts'

/** The apply path's numbers for Prometheus: what was read and applied, the replay, each partition's lag. */
export function applyMetrics(numbers: ApplyNumbers): MetricSource {
  return (): MetricFamily[] => {
    const now = numbers.summary()
    const { progress } = numbers
    const perPartition = (value: (p: Summary['partitions'][number]) => number) =>
      now.partitions.map((p) => ({ labels: { partition: String(p.partition) }, value: value(p) }))
    return [
      counter('saldo_records_applied_total', 'Balance records applied to the store.', now.applied),
      counter('saldo_tombstones_total', 'Tombstones (null values) applied: clients deleted.', now.tombstones),
      counter(
        'saldo_records_rejected_total',
        'Records not applied, by reason; the key kept its previous value.',
        REJECT_REASONS.map((reason) => ({ labels: { reason }, value: now.rejectedByReason[reason] })),
      ),
      counter(
        'saldo_records_foreign_partition_total',
        'Records on another partition than murmur2(key) puts them on (a producer that does not partition like the Java client).',
        now.foreignPartition,
      ),
      counter(
        'saldo_state_rebuilds_total',
        'Times the state was thrown away and rebuilt from the topic: another history (recreated, resized or truncated topic, other cluster).',
        now.rebuilds,
      ),
      gauge('saldo_keys', 'Clients with a balance in the store.', now.keys),
      gauge(
        'saldo_partition_position',
        'Next offset to read of each partition: everything before it is applied.',
        perPartition((p) => p.position),
      ),
      gauge(
        'saldo_partition_end_offset',
        'Latest end offset (high watermark) seen for each partition.',
        perPartition((p) => p.endOffset),
      ),
      gauge(
        'saldo_partition_lag',
        'Offsets between the position and the end offset of each partition.',
        perPartition((p) => p.lag),
      ),
      gauge(
        'saldo_ready',
        '1 while reads are served: every partition replayed and the local state taking writes; else 0.',
        numbers.serving ? 1 : 0,
      ),
      gauge(
        'saldo_replay_duration_seconds',
        'Time the replay took, or has taken so far while replaying.',
        progress.elapsedMs() / 1000,
      ),
      gauge(
        'saldo_replay_records_per_second',
        'Offsets replayed per second over the replay (gaps left by compaction count).',
        progress.snapshot().recordsPerSecond,
      ),
      gauge(
        'saldo_kafka_connected',
        '1 while the consumer fetches from Kafka, else 0.',
        numbers.link.connected() ? 1 : 0,
      ),
    ]
  }
}
