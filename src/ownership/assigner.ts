import { AssignerProtocol, type PartitionAssigner } from 'kafkajs'
import { assignPartitions } from './assignment.ts'
import { decodeJson, encodeJson, type OwnerMap, Subscription } from './protocol.ts'

/** The protocol name: members that speak another version of the userData never share a generation. */
export const OWNERSHIP_PROTOCOL = 'saldo-ownership-v1'
const VERSION = 1

export interface OwnershipAssignerDeps {
  topic: string
  /** What this member tells the leader when it joins: its URL and what it owned until now. */
  subscription: () => Subscription
}

/**
 * A kafkajs partition assigner: each member's metadata carries its URL and its current partitions;
 * the leader gives every partition of the topic to one member (evenly, sticky) and writes the whole
 * owner map into every member's assignment.
 */
export function ownershipAssigner({ topic, subscription }: OwnershipAssignerDeps): PartitionAssigner {
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
      const userData = encodeJson(ownerMap(claims, given))
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

/** The map every member receives: members in the assignment's (memberId) order, each partition's owner among them. */
function ownerMap(
  claims: ReadonlyArray<{ memberId: string; url: string }>,
  given: ReadonlyMap<string, readonly number[]>,
): OwnerMap {
  const urls = new Map(claims.map(({ memberId, url }) => [memberId, url]))
  const members = [...given.keys()].map((memberId) => ({ memberId, url: urls.get(memberId) ?? '' }))
  const owners: number[] = []
  members.forEach(({ memberId }, index) => {
    for (const partition of given.get(memberId) ?? []) owners[partition] = index
  })
  return { members, owners }
}
