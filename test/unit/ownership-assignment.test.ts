import { describe, expect } from 'bun:test'
import { AssignerProtocol, type Cluster } from 'kafkajs'
import { OWNERSHIP_PROTOCOL, ownershipAssigner } from '../../src/ownership/assigner.ts'
import { assignPartitions, type Claimant } from '../../src/ownership/assignment.ts'
import { decodeJson, encodeJson, type Mode, OwnerMap, Subscription } from '../../src/ownership/protocol.ts'
import { seededIt as it, randomInt } from '../helpers.ts'

const range = (n: number) => Array.from({ length: n }, (_, i) => i)
const fresh = (...ids: string[]): Claimant[] =>
  ids.map((memberId) => ({ memberId, owned: [], generation: -1 }))
/** The members of the previous generation, each claiming what it was given. */
const claimsOf = (given: Map<string, number[]>, generation: number): Claimant[] =>
  [...given].map(([memberId, owned]) => ({ memberId, owned, generation }))
const owners = (given: Map<string, number[]>) => {
  const map = new Map<number, string>()
  for (const [member, partitions] of given) for (const p of partitions) map.set(p, member)
  return map
}
const moved = (before: Map<string, number[]>, after: Map<string, number[]>) => {
  const was = owners(before)
  return [...owners(after)].filter(([p, member]) => was.has(p) && was.get(p) !== member).length
}

/** Every partition exactly once, and counts that differ by at most one. */
function expectEvenAndComplete(given: Map<string, number[]>, partitions: number) {
  const all = [...given.values()].flat().sort((a, b) => a - b)
  expect(all).toEqual(range(partitions))
  const counts = [...given.values()].map((p) => p.length)
  expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
}

describe('assignPartitions', () => {
  it('spreads the partitions evenly over new members, every partition exactly once', () => {
    const given = assignPartitions(range(6), fresh('c', 'a', 'b'))
    expect(given).toEqual(
      new Map([
        ['a', [0, 3]],
        ['b', [1, 4]],
        ['c', [2, 5]],
      ]),
    )
    expectEvenAndComplete(assignPartitions(range(7), fresh('a', 'b', 'c')), 7)
    expectEvenAndComplete(assignPartitions(range(2), fresh('a', 'b', 'c')), 2)
  })

  it('keeps every partition where it is when the members stay the same', () => {
    const first = assignPartitions(range(6), fresh('a', 'b', 'c'))
    expect(assignPartitions(range(6), claimsOf(first, 1))).toEqual(first)
  })

  it("moves only the leaving member's partitions, to the others, evenly", () => {
    const first = assignPartitions(range(6), fresh('a', 'b', 'c'))
    const after = assignPartitions(
      range(6),
      claimsOf(first, 1).filter((m) => m.memberId !== 'b'),
    )
    expectEvenAndComplete(after, 6)
    expect(moved(first, after)).toBe(2)
    expect([...after.keys()]).toEqual(['a', 'c'])
  })

  it('gives a joining member its share, taken from the others, and moves nothing else', () => {
    const first = assignPartitions(range(6), fresh('a', 'b', 'c'))
    const after = assignPartitions(range(6), [...claimsOf(first, 1), ...fresh('d')])
    expectEvenAndComplete(after, 6)
    expect(after.get('d')?.length).toBe(1)
    expect(moved(first, after)).toBe(1)
  })

  it('gives the spare partitions of an uneven split to the members that already hold them', () => {
    // a holds 4 of 5: an even split of 5 over 2 is 3+2, so a keeps 3 and one moves to b.
    const given = assignPartitions(range(5), [
      { memberId: 'b', owned: [4], generation: 3 },
      { memberId: 'a', owned: [0, 1, 2, 3], generation: 3 },
    ])
    expect(given).toEqual(
      new Map([
        ['a', [0, 1, 2]],
        ['b', [3, 4]],
      ]),
    )
  })

  it('settles a partition claimed by two members for the later generation, and ignores unknown partitions', () => {
    const given = assignPartitions(range(2), [
      { memberId: 'zombie', owned: [0, 1, 7], generation: 2 },
      { memberId: 'newer', owned: [0], generation: 5 },
    ])
    expect(given).toEqual(
      new Map([
        ['newer', [0]],
        ['zombie', [1]],
      ]),
    )
  })

  it('answers the same whatever the order of the members, and stays even and sticky over random churn', () => {
    let given = assignPartitions(range(12), fresh('m0', 'm1', 'm2'))
    let next = 3
    for (let generation = 1; generation <= 200; generation++) {
      const claims = claimsOf(given, generation)
      const change = randomInt(3)
      if (change === 0 && claims.length > 1) claims.splice(randomInt(claims.length), 1)
      if (change === 1) claims.push(...fresh(`m${next++}`))
      const after = assignPartitions(range(12), claims)
      expect(assignPartitions(range(12), [...claims].reverse())).toEqual(after)
      expectEvenAndComplete(after, 12)
      // Stickiness: with the same members nothing moves.
      if (change === 2) expect(moved(given, after)).toBe(0)
      given = after
    }
  })

  it('gives nothing to nobody', () => {
    expect(assignPartitions(range(3), [])).toEqual(new Map())
    expect(assignPartitions([], fresh('a'))).toEqual(new Map([['a', []]]))
  })
})

describe('ownershipAssigner', () => {
  const cluster = { findTopicPartitionMetadata: () => range(4).map((partitionId) => ({ partitionId })) }
  const assigner = (url: string, owned: number[] = [], generation = -1, mode?: Mode) =>
    ownershipAssigner({
      topic: 'contas',
      subscription: () => ({ url, owned, generation, ...(mode ? { mode } : {}) }),
      standbyReplicas: 1,
    })({
      cluster: cluster as unknown as Cluster,
      groupId: 'g',
      logger: undefined as never,
    })

  it("writes each member's URL and claims into its metadata, and the whole owner map into every assignment", async () => {
    const a = assigner('http://a:5000', [0, 1, 2, 3], 4)
    const b = assigner('http://b:5000')
    const members = [a, b].map((m, i) => ({
      memberId: `member-${i}`,
      memberMetadata: m.protocol({ topics: ['contas'] }).metadata,
    }))
    expect(a.protocol({ topics: ['contas'] }).name).toBe(OWNERSHIP_PROTOCOL)
    const assignments = await a.assign({ members, topics: ['contas'] })
    const decoded = assignments.map((x) => ({
      memberId: x.memberId,
      ...AssignerProtocol.MemberAssignment.decode(x.memberAssignment),
    }))
    expect(decoded.map((d) => [d.memberId, d.assignment])).toEqual([
      ['member-0', { contas: [0, 1] }],
      ['member-1', { contas: [2, 3] }],
    ])
    const expected: OwnerMap = {
      members: [
        { memberId: 'member-0', url: 'http://a:5000' },
        { memberId: 'member-1', url: 'http://b:5000' },
      ],
      owners: [0, 0, 1, 1],
      // The leader runs replica mode (an older member sends no mode): no standbys.
      standbys: [[], [], [], []],
    }
    for (const d of decoded) expect(decodeJson(OwnerMap, 'assignment', d.userData ?? null)).toEqual(expected)
  })

  it("in partitioned mode, puts each partition's standby on the other member and every member's mode in the map", async () => {
    const a = assigner('http://a:5000', [0, 1], 4, 'partitioned')
    const b = assigner('http://b:5000', [2, 3], 4, 'replica')
    const members = [a, b].map((m, i) => ({
      memberId: `member-${i}`,
      memberMetadata: m.protocol({ topics: ['contas'] }).metadata,
    }))
    const [first] = await a.assign({ members, topics: ['contas'] })
    const map = decodeJson(
      OwnerMap,
      'assignment',
      AssignerProtocol.MemberAssignment.decode(first?.memberAssignment as Buffer)?.userData ?? null,
    )
    expect(map).toEqual({
      members: [
        { memberId: 'member-0', url: 'http://a:5000', mode: 'partitioned' },
        { memberId: 'member-1', url: 'http://b:5000', mode: 'replica' },
      ],
      owners: [0, 0, 1, 1],
      standbys: [[1], [1], [0], [0]],
    })
  })

  it('refuses userData it cannot read, saying whose it is', () => {
    expect(() => decodeJson(Subscription, 'subscription of m1', Buffer.from('{"url":1}'))).toThrow(
      'ownership group: unreadable subscription of m1 userData (9 bytes)',
    )
    expect(() => decodeJson(OwnerMap, 'assignment', null)).toThrow('unreadable assignment userData (0 bytes)')
    expect(decodeJson(Subscription, 's', encodeJson({ url: 'u', owned: [1], generation: 2 }))).toEqual({
      url: 'u',
      owned: [1],
      generation: 2,
    })
  })
})
