import { AssignerProtocol, type PartitionAssigner } from 'kafkajs'
import { assignPartitions } from './assignment.ts'
import { decodeJson, encodeJson, type OwnerMap, Subscription } from './protocol.ts'
import { assignStandbys } from './standbys.ts'

/** The protocol name: members that speak another version of the userData never share a generation. */
export const OWNERSHIP_PROTOCOL = 'saldo-ownership-v1'
const VERSION = 1

export interface OwnershipAssignerDeps {
  topic: string
  /** What this member tells the leader when it joins: its URL, its mode and what it held until now. */
  subscription: () => Subscription
  /** Standbys per partition when this member leads in partitioned mode (replica members hold everything). */
  standbyReplicas: number
}

/**
 * A kafkajs partition assigner: each member's metadata carries its URL, mode and current partitions;
 * the leader gives every partition of the topic to one member (evenly, sticky), in partitioned mode
 * its standbys to others, and writes the whole owner map into every member's assignment. The leader's
 * own mode and STANDBY_REPLICAS decide the standbys: members that disagree are told by the map (each
 * member's mode is in it) and say so; ownership is the same whatever the modes.
 */
export function ownershipAssigner({
  topic,
  subscription,
  standbyReplicas,
}: OwnershipAssignerDeps): PartitionAssigner {
  return ({ cluster }) => ({
    name: OWNERSHIP_PROTOCOL,
    version: VERSION,
    protocol: ({ topics }) => ({
      name: OWNERSHIP_PROTOCOL,
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: VERSION,
        topics,
        userData: encodeJson(subscription()),
      }),
    }),
    async assign({ members }) {
      const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId)
      const claims = members.map(({ memberId, memberMetadata }) => ({
        memberId,
        ...decodeJson(
          Subscription,
          `subscription of ${memberId}`,
          AssignerProtocol.MemberMetadata.decode(memberMetadata)?.userData ?? null,
        ),
      }))
      const given = assignPartitions(partitions, claims)
      const copies = subscription().mode === 'partitioned' ? standbyReplicas : 0
      const warm = new Map(claims.map((c) => [c.memberId, [...c.owned, ...(c.standbys ?? [])]]))
      const standbys = assignStandbys(given, warm, copies)
      const userData = encodeJson(ownerMap(claims, given, standbys))
      return claims.map(({ memberId }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: VERSION,
          assignment: { [topic]: given.get(memberId) ?? [] },
          userData,
        }),
      }))
    },
  })
}

/** The map every member receives: members in the assignment's (memberId) order, each partition's owner and standbys among them. */
function ownerMap(
  claims: ReadonlyArray<Subscription & { memberId: string }>,
  given: ReadonlyMap<string, readonly number[]>,
  standbys: ReadonlyMap<string, readonly number[]>,
): OwnerMap {
  const byId = new Map(claims.map((claim) => [claim.memberId, claim]))
  const members = [...given.keys()].map((memberId) => {
    const { url = '', mode } = byId.get(memberId) ?? {}
    return { memberId, url, ...(mode ? { mode } : {}) }
  })
  const owners: number[] = []
  members.forEach(({ memberId }, index) => {
    for (const partition of given.get(memberId) ?? []) owners[partition] = index
  })
  const copies = owners.map((): number[] => [])
  members.forEach(({ memberId }, index) => {
    for (const partition of standbys.get(memberId) ?? []) copies[partition]?.push(index)
  })
  return { members, owners, standbys: copies }
}
