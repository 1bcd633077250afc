import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

/**
 * What saldo's ownership assigner puts in the group protocol's userData, as JSON: a member's
 * subscription says where it answers and what it owned (the leader keeps partitions where they are),
 * and every member's assignment carries the whole owner map, as Kafka Streams puts its host map in
 * the assignment (AssignmentInfo.partitionsByHost), so every instance knows every owner.
 */
export const Mode = Type.Union([Type.Literal('replica'), Type.Literal('partitioned')])
export type Mode = Static<typeof Mode>

// mode and standbys are optional: a member of an older saldo sends neither (it runs replica mode).
export const Subscription = Type.Object({
  url: Type.String(),
  owned: Type.Array(Type.Integer({ minimum: 0 })),
  /** The generation in which `owned` was given: between two claims of a partition, the later one wins. */
  generation: Type.Integer(),
  mode: Type.Optional(Mode),
  /** The partitions it held as standby: a caught-up copy, kept there or made the owner first. */
  standbys: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }))),
})
export type Subscription = Static<typeof Subscription>

export const OwnerMap = Type.Object({
  members: Type.Array(
    Type.Object({ memberId: Type.String(), url: Type.String(), mode: Type.Optional(Mode) }),
  ),
  /** owners[partition] is the index in `members` of that partition's owner. */
  owners: Type.Array(Type.Integer({ minimum: 0 })),
  /** standbys[partition] are the indexes in `members` of that partition's standbys (partitioned mode). */
  standbys: Type.Optional(Type.Array(Type.Array(Type.Integer({ minimum: 0 })))),
})
export type OwnerMap = Static<typeof OwnerMap>

export const encodeJson = (value: unknown): Buffer => Buffer.from(JSON.stringify(value))

/**
 * Reads userData written by this protocol. The protocol's name carries its version, so the broker
 * never groups members that speak another one: a mismatch here is a bug, and says what it got.
 */
export function decodeJson<T extends TSchema>(schema: T, what: string, data: Buffer | null): Static<T> {
  let value: unknown
  try {
    value = JSON.parse(data?.toString() ?? '')
  } catch {
    value = undefined
  }
  if (!Value.Check(schema, value)) {
    throw new Error(`ownership group: unreadable ${what} userData (${data?.length ?? 0} bytes)`)
  }
  return value
}
