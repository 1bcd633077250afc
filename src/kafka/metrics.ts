import { REJECT_REASONS } from '../balance.ts'
import { counter, gauge, type MetricFamily, type MetricSource } from '../metrics/prometheus.ts'
import type { BalanceStore } from '../store/store.ts'
import type { ApplyStats } from './apply-stats.ts'
import type { HighWatermarks } from './high-watermarks.ts'
import type { KafkaStatus } from './materializer.ts'
import type { ReplayProgress } from './replay-progress.ts'

export interface MaterializerMetricsDeps {
  stats: ApplyStats
  progress: ReplayProgress
  store: Pick<BalanceStore, 'size' | 'position'>
  watermarks: HighWatermarks
  kafkaStatus: () => KafkaStatus
}

/** What the materializer has read and applied, its replay, and how far each partition is behind. */
export function materializerMetrics(deps: MaterializerMetricsDeps): MetricSource {
  const { stats, progress, store, watermarks, kafkaStatus } = deps
  return (): MetricFamily[] => {
    const partitions = [...watermarks.entries()].sort(([a], [b]) => a - b)
    const perPartition = (value: (partition: number, end: number) => number) =>
      partitions.map(([partition, end]) => ({
        labels: { partition: String(partition) },
        value: value(partition, end),
      }))
    return [
      counter('saldo_records_applied_total', 'Balance records applied to the store.', stats.applied),
      counter(
        'saldo_tombstones_total',
        'Tombstones (null values) applied: clients deleted.',
        stats.tombstones,
      ),
      counter(
        'saldo_records_rejected_total',
        'Records not applied, by reason; the key kept its previous value.',
        REJECT_REASONS.map((reason) => ({ labels: { reason }, value: stats.rejected[reason] })),
      ),
      gauge('saldo_keys', 'Clients with a balance in the store.', store.size),
      gauge(
        'saldo_partition_position',
        'Next offset to read of each partition: everything before it is applied.',
        perPartition((partition) => store.position(partition)),
      ),
      gauge(
        'saldo_partition_end_offset',
        'Latest end offset (high watermark) seen for each partition.',
        perPartition((_partition, end) => end),
      ),
      gauge(
        'saldo_partition_lag',
        'Offsets between the position and the end offset of each partition.',
        perPartition((partition, end) => Math.max(0, end - store.position(partition))),
      ),
      gauge(
        'saldo_ready',
        '1 once every partition is replayed (reads are served), else 0.',
        progress.ready ? 1 : 0,
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
        kafkaStatus().connected ? 1 : 0,
      ),
    ]
  }
}
