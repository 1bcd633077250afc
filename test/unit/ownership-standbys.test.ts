import { describe, expect } from 'bun:test'
import { assignPartitions, type Claimant } from '../../src/ownership/assignment.ts'
import { assignStandbys } from '../../src/ownership/standbys.ts'
import { seededIt as it, randomInt } from '../helpers.ts'

const range = (n: number) => Array.from({ length: n }, (_, i) => i)
const members = (...ids: string[]) => ids.map((id) => id)

/** Each partition has `copies` standbys, none on its owner, none twice; counts differ by at most one. */
function expectSpread(owners: Map<string, number[]>, standbys: Map<string, number[]>, copies: number) {
  const ownerOf = new Map<number, string>()
  for (const [member, partitions] of owners) for (const p of partitions) ownerOf.set(p, member)
  const perPartition = new Map<number, string[]>()
  for (const [member, partitions] of standbys) {
    for (const p of partitions) {
      expect(ownerOf.get(p)).not.toBe(member)
      perPartition.set(p, [...(perPartition.get(p) ?? []), member])
    }
  }
  for (const p of ownerOf.keys()) {
    const holders = perPartition.get(p) ?? []
    expect(holders.length).toBe(copies)
    expect(new Set(holders).size).toBe(copies)
  }
  const counts = [...standbys.values()].map((p) => p.length)
  expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
}

const held = (owners: Map<string, number[]>, standbys: Map<string, number[]>) =>
  new Map([...owners].map(([m, owned]) => [m, [...owned, ...(standbys.get(m) ?? [])]]))

describe('assignStandbys', () => {
  it('gives each of 12 partitions one standby on another member than its owner, 4 per member', () => {
    const owners = assignPartitions(
      range(12),
      members('a', 'b', 'c').map((memberId) => ({ memberId, owned: [], generation: -1 })),
    )
    const standbys = assignStandbys(owners, new Map(), 1)
    expectSpread(owners, standbys, 1)
    expect([...standbys.values()].map((p) => p.length)).toEqual([4, 4, 4])
  })

  it('gives at most one copy per other member, and none with a single member or no copies', () => {
    const owners = new Map([
      ['a', [0, 1]],
      ['b', [2, 3]],
    ])
    expect(assignStandbys(owners, new Map(), 5)).toEqual(
      new Map([
        ['a', [2, 3]],
        ['b', [0, 1]],
      ]),
    )
    expect(assignStandbys(new Map([['a', [0, 1]]]), new Map(), 1)).toEqual(new Map([['a', []]]))
    expect(assignStandbys(owners, new Map(), 0)).toEqual(
      new Map([
        ['a', []],
        ['b', []],
      ]),
    )
  })

  it('keeps standbys where they are, and makes the former owner of a moved partition its standby', () => {
    const owners = new Map([
      ['a', [0, 1, 2]],
      ['b', [3, 4, 5]],
      ['c', [6, 7, 8]],
    ])
    const first = assignStandbys(owners, new Map(), 1)
    expect(assignStandbys(owners, held(owners, first), 1)).toEqual(first)
    // d joins and takes partition 0 from a: a still has it, as standby.
    const next = new Map([
      ['a', [1, 2]],
      ['b', [3, 4, 5]],
      ['c', [6, 7, 8]],
      ['d', [0]],
    ])
    const after = assignStandbys(next, held(owners, first), 1)
    expect(after.get('a')).toContain(0)
    expectSpread(next, after, 1)
  })

  it("keeps a dead member's partitions on their standbys, which mostly become their owners", () => {
    const claims = (owners: Map<string, number[]>, standbys: Map<string, number[]>, generation: number) =>
      [...owners].map(([memberId, owned]) => ({
        memberId,
        owned,
        generation,
        standbys: standbys.get(memberId),
      }))
    const owners = assignPartitions(
      range(12),
      ['a', 'b', 'c'].map((memberId) => ({ memberId, owned: [], generation: -1 })),
    )
    const standbys = assignStandbys(owners, new Map(), 1)
    const alive = claims(owners, standbys, 1).filter((c) => c.memberId !== 'c')
    const after = assignPartitions(range(12), alive)
    const warm = new Map(alive.map((c) => [c.memberId, [...c.owned, ...(c.standbys ?? [])]]))
    const afterStandbys = assignStandbys(after, warm, 1)
    expectSpread(after, afterStandbys, 1)
    for (const p of owners.get('c') ?? []) {
      const standby = alive.find((c) => c.standbys?.includes(p))?.memberId as string
      expect(after.get(standby)).toContain(p)
    }
  })

  it('stays spread over random churn, whatever the order of the members', () => {
    let claims: Claimant[] = ['m0', 'm1', 'm2'].map((memberId) => ({ memberId, owned: [], generation: -1 }))
    let next = 3
    for (let generation = 1; generation <= 100; generation++) {
      const owners = assignPartitions(range(12), claims)
      const warm = new Map(claims.map((c) => [c.memberId, [...c.owned, ...(c.standbys ?? [])]]))
      const standbys = assignStandbys(owners, warm, 1 + randomInt(2))
      expectSpread(owners, standbys, Math.min(standbys.size - 1, [...standbys.values()].flat().length / 12))
      expect(assignStandbys(new Map([...owners].reverse()), new Map([...warm].reverse()), 1)).toEqual(
        assignStandbys(owners, warm, 1),
      )
      claims = [...owners].map(([memberId, owned]) => ({
        memberId,
        owned,
        generation,
        standbys: standbys.get(memberId) ?? [],
      }))
      const change = randomInt(3)
      if (change === 0 && claims.length > 2) claims.splice(randomInt(claims.length), 1)
      if (change === 1) claims.push({ memberId: `m${next++}`, owned: [], generation: -1 })
    }
  })
})
