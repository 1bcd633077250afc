import { CloneType, type Static, Type } from '@sinclair/typebox'
import { Mode } from './protocol.ts'

/** Who answers for a partition's writes. */
export const PartitionOwner = Type.Object({
  memberId: Type.String({ description: "the owner's member id in the ownership group" }),
  url: Type.String({ description: 'where the owner answers (its ADVERTISED_URL)' }),
  self: Type.Boolean({ description: 'true when the owner is the instance that answers' }),
})
export type PartitionOwner = Static<typeof PartitionOwner>

/** The owner map as one instance knows it, for /ready and /stats. */
export const OwnershipStatus = Type.Object({
  group: Type.String({ description: 'the consumer group that gives each partition one owner' }),
  url: Type.String({ description: 'where this instance says it answers (ADVERTISED_URL)' }),
  mode: CloneType(Mode, {
    description:
      "this instance's MODE: replica holds every partition, partitioned only those it owns and its standbys",
  }),
  generation: Type.Integer({
    description: 'the group generation the map comes from; -1 before the first assignment',
  }),
  rebalancing: Type.Boolean({
    description: 'true while this instance is not in a completed assignment: it owns nothing then',
  }),
  owned: Type.Array(Type.Integer(), { description: 'the partitions this instance owns now' }),
  standbys: Type.Array(Type.Integer(), {
    description: 'MODE=partitioned: the partitions this instance holds a standby copy of',
  }),
  owners: Type.Array(
    Type.Composite([
      Type.Object({ partition: Type.Integer() }),
      PartitionOwner,
      Type.Object({
        standbys: Type.Array(Type.String(), {
          description: 'the URLs of the instances holding a standby copy',
        }),
      }),
    ]),
    { description: 'every partition, its owner and standbys in this generation (empty while rebalancing)' },
  ),
})
export type OwnershipStatus = Static<typeof OwnershipStatus>

/** What `onChange` listeners are told after an assignment, or as soon as a rebalance starts. */
export interface OwnershipChange {
  generation: number
  gained: number[]
  lost: number[]
}

/** Who owns which partition, as this instance knows it (contract.md). */
export interface OwnershipView {
  /** The group generation the map comes from; -1 before the first assignment. */
  readonly generation: number
  /** Partitions this instance owns now (empty while a rebalance is in progress). */
  owned(): ReadonlySet<number>
  /** The owner of a partition in the current generation; undefined while unknown / moving. */
  ownerOf(partition: number): PartitionOwner | undefined
  /** Called after every completed assignment, and when a rebalance starts, with what this instance gained and lost. */
  onChange(listener: (change: OwnershipChange) => void): void
}

/** The view, plus what this instance shows of it: where it says it answers, and the map for /ready. */
export interface OwnershipSource extends OwnershipView {
  readonly url: string
  /** MODE=partitioned: the instances holding a standby copy of a partition (empty while unknown / moving). */
  standbysOf(partition: number): PartitionOwner[]
  /**
   * MODE=partitioned: where a read of a partition may be asked, owner first, then its standbys; while
   * a rebalance is in progress, those of the last completed assignment (they read on meanwhile).
   */
  holdersOf(partition: number): PartitionOwner[]
  status(): OwnershipStatus
}
