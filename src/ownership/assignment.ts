/** A member of the ownership group as the leader sees it: who it is and what it owned until now. */
export interface Claimant {
  memberId: string
  /** The partitions it was given in generation `generation` (empty for a new member). */
  owned: readonly number[]
  generation: number
  /** The partitions it held as standby (caught up): a free one goes to its standby first. */
  standbys?: readonly number[]
}

/**
 * Gives every partition exactly one member, evenly (counts differ by at most one), keeping each
 * partition where it is whenever the balance allows: a partition that moves costs its new owner a
 * catch-up, so fewer moves are cheaper. Deterministic: the same members and claims, in any order, give
 * the same answer. Returns every member's partitions, ascending (empty for a member given none).
 *
 * Two members may both claim a partition (one of them missed a generation, e.g. it was frozen): the
 * claim from the later generation wins, as in Kafka's own sticky assignor.
 */
export function assignPartitions(partitions: readonly number[], members: readonly Claimant[]) {
  const sorted = [...members].sort((a, b) => compare(a.memberId, b.memberId))
  const result = new Map<string, number[]>(sorted.map((m) => [m.memberId, []]))
  if (sorted.length === 0) return result
  const wanted = new Set(partitions)
  const claims = new Map<number, Claimant>()
  for (const member of sorted) {
    for (const partition of member.owned) {
      const other = claims.get(partition)
      if (wanted.has(partition) && (!other || member.generation > other.generation))
        claims.set(partition, member)
    }
  }
  const held = new Map<string, number[]>(sorted.map((m) => [m.memberId, []]))
  for (const [partition, owner] of claims) held.get(owner.memberId)?.push(partition)
  const holding = (member: Claimant) => held.get(member.memberId) ?? []
  // The members that already hold the most get the spare partitions of an uneven split: fewer moves.
  const base = Math.floor(wanted.size / sorted.length)
  const spare = wanted.size % sorted.length
  const byHoldings = [...sorted].sort(
    (a, b) => holding(b).length - holding(a).length || compare(a.memberId, b.memberId),
  )
  const quota = new Map(byHoldings.map((m, i) => [m.memberId, base + (i < spare ? 1 : 0)]))
  const free: number[] = []
  for (const member of sorted) {
    const kept = holding(member).sort((a, b) => a - b)
    const limit = quota.get(member.memberId) ?? 0
    result.set(member.memberId, kept.slice(0, limit))
    free.push(...kept.slice(limit))
  }
  for (const partition of wanted) if (!claims.has(partition)) free.push(partition)
  free.sort((a, b) => a - b)
  // Each free partition goes to its standby when it is still under its quota (it serves at once, as
  // Kafka Streams moves an active task to a caught-up standby), else to the member with the fewest.
  const count = (member: Claimant) => result.get(member.memberId)?.length ?? 0
  for (const partition of free) {
    const open = sorted.filter((m) => count(m) < (quota.get(m.memberId) ?? 0))
    const standby = open.find((m) => m.standbys?.includes(partition))
    const taker = standby ?? open.reduce((best, m) => (count(m) < count(best) ? m : best))
    result.get(taker.memberId)?.push(partition)
  }
  for (const owned of result.values()) owned.sort((a, b) => a - b)
  return result
}

/** Code-unit order: the same on every member, whatever its locale. */
export const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
