import { compare } from './assignment.ts'

/**
 * Gives each partition `copies` standbys (fewer when there are not that many other members), never
 * on its owner, spread evenly over the members, as Kafka Streams places its standby tasks. Sticky:
 * a member that held the partition until now (as owner or standby) keeps it as standby whenever the
 * balance allows, since its copy is already caught up; a new standby replays the partition first.
 * Deterministic, like assignPartitions. Returns every member's standby partitions, ascending.
 *
 * `owners` is the new assignment (member → owned partitions); `warm` what each member held before.
 */
export function assignStandbys(
  owners: ReadonlyMap<string, readonly number[]>,
  warm: ReadonlyMap<string, readonly number[]>,
  copies: number,
): Map<string, number[]> {
  const members = [...owners.keys()].sort(compare)
  const result = new Map<string, number[]>(members.map((m) => [m, []]))
  const perPartition = Math.min(copies, members.length - 1)
  if (perPartition <= 0) return result
  const ownerOf = new Map<number, string>()
  for (const [member, partitions] of owners) for (const p of partitions) ownerOf.set(p, member)
  const partitions = [...ownerOf.keys()].sort((a, b) => a - b)
  // Each member's share, as even as the owners: the spare ones go to the members that own the fewest.
  const total = partitions.length * perPartition
  const byOwned = [...members].sort(
    (a, b) => (owners.get(a)?.length ?? 0) - (owners.get(b)?.length ?? 0) || compare(a, b),
  )
  const quota = new Map(
    byOwned.map((m, i) => [m, Math.floor(total / members.length) + (i < total % members.length ? 1 : 0)]),
  )
  const under = (member: string) => count(member) < (quota.get(member) ?? 0)
  const chosen = new Map<number, Set<string>>(partitions.map((p) => [p, new Set()]))
  const count = (member: string) => result.get(member)?.length ?? 0
  const eligible = (p: number, member: string) =>
    ownerOf.get(p) !== member && !(chosen.get(p) as Set<string>).has(member)
  const take = (p: number, member: string) => {
    chosen.get(p)?.add(member)
    result.get(member)?.push(p)
  }
  /**
   * Every member under its share owns `p` or holds it already, and the others are full: one of those
   * (`open`) takes `p` and hands one of its standbys to a member under its share that may hold it.
   */
  const swapFor = (p: number, open: readonly string[]): boolean => {
    for (const receiver of members.filter(under)) {
      for (const giver of open) {
        const given = result.get(giver) as number[]
        const q = given.find((q) => eligible(q, receiver))
        if (q === undefined) continue
        given.splice(given.indexOf(q), 1)
        chosen.get(q)?.delete(giver)
        take(q, receiver)
        take(p, giver)
        return true
      }
    }
    return false
  }
  const warmSets = new Map([...warm].map(([member, held]) => [member, new Set(held)]))
  // First the partitions whose new owner has no copy yet: their warm copy is the only one that serves.
  const cold = (p: number) => (warmSets.get(ownerOf.get(p) as string)?.has(p) ? 1 : 0)
  for (const p of [...partitions].sort((a, b) => cold(a) - cold(b) || a - b)) {
    for (const member of members) {
      if ((chosen.get(p) as Set<string>).size >= perPartition) break
      if (warmSets.get(member)?.has(p) && eligible(p, member) && under(member)) take(p, member)
    }
  }
  for (const p of partitions) {
    while ((chosen.get(p) as Set<string>).size < perPartition) {
      const open = members.filter((m) => eligible(p, m))
      const taker = open
        .filter(under)
        .reduce<string | undefined>(
          (best, m) => (best === undefined || count(m) < count(best) ? m : best),
          undefined,
        )
      if (taker !== undefined) take(p, taker)
      else if (!swapFor(p, open))
        take(
          p,
          open.reduce((best, m) => (count(m) < count(best) ? m : best)),
        )
    }
  }
  for (const held of result.values()) held.sort((a, b) => a - b)
  return result
}
