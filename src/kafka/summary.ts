import { type Static, type TInteger, Type } from '@sinclair/typebox'
import { REJECT_REASONS, type RejectReason } from '../balance.ts'
import type { BalanceStore } from '../store/store.ts'
import type { ApplyStats } from './apply-stats.ts'
import type { HighWatermarks } from './high-watermarks.ts'

export const PartitionLag = Type.Object({
  partition: Type.Integer(),
  position: Type.Integer({ description: 'next offset to read: everything before it is applied' }),
  endOffset: Type.Integer({ description: 'latest end offset (high watermark) seen' }),
  lag: Type.Integer({ description: 'offsets between the position and the end offset' }),
})

const RejectedByReason = Type.Object(
  Object.fromEntries(REJECT_REASONS.map((reason) => [reason, Type.Integer()])) as Record<
    RejectReason,
    TInteger
  >,
  { description: 'records not applied, by reason' },
)

/** What the materializer has applied and how far behind it is: the numbers of /metrics, as JSON. */
export const Summary = Type.Object({
  keys: Type.Integer({ description: 'clients with a balance' }),
  applied: Type.Integer({ description: 'balance records applied' }),
  tombstones: Type.Integer({ description: 'tombstones applied: clients deleted' }),
  rejected: Type.Integer({ description: 'records not applied (the key kept its previous value)' }),
  rejectedByReason: RejectedByReason,
  foreignPartition: Type.Integer({
    description:
      'records on another partition than murmur2(key) puts them on: one client may then live on two partitions',
  }),
  lag: Type.Integer({ description: 'the lag of every partition, summed' }),
  partitions: Type.Array(PartitionLag),
})
export type Summary = Static<typeof Summary>

export interface SummaryDeps {
  stats: ApplyStats
  store: Pick<BalanceStore, 'size' | 'position'>
  watermarks: HighWatermarks
}

/** The materializer's counters and per-partition lag right now, partitions in order. */
export function materializerSummary({ stats, store, watermarks }: SummaryDeps): () => Summary {
  return () => {
    const partitions = [...watermarks.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partition, endOffset]) => {
        const position = store.position(partition)
        return { partition, position, endOffset, lag: Math.max(0, endOffset - position) }
      })
    return {
      keys: store.size,
      applied: stats.applied,
      tombstones: stats.tombstones,
      rejected: stats.rejectedTotal,
      rejectedByReason: { ...stats.rejected },
      foreignPartition: stats.foreignPartition,
      lag: partitions.reduce((sum, p) => sum + p.lag, 0),
      partitions,
    }
  }
}
