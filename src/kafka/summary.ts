import { type Static, type TInteger, Type } from '@sinclair/typebox'
import { REJECT_REASONS, type RejectReason } from '../balance.ts'

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
  rebuilds: Type.Integer({
    description:
      'times the state was thrown away and rebuilt from the topic: another history (recreated, resized, truncated topic)',
  }),
  lag: Type.Integer({ description: 'the lag of every partition, summed' }),
  partitions: Type.Array(PartitionLag),
})
export type Summary = Static<typeof Summary>
