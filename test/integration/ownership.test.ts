import { describe, expect, it } from 'bun:test'
import { murmur2Partition } from '../../src/kafka/partitioning.ts'
import type { OwnershipStatus } from '../../src/ownership/models.ts'
import {
  createTopic,
  metricValues,
  promtoolCheck,
  type RunningService,
  readiness,
  readTopic,
  startService,
  waitFor,
  waitUntilReady,
} from '../helpers.ts'

const PARTITIONS = 6

/** partition → owner URL, from one instance's view. */
const urlsOf = (status: OwnershipStatus) => status.owners.map((o) => `${o.partition}=${o.url}`).join(' ')

/**
 * Waits until every instance of `services` reports the same completed generation and the same owner
 * map, in which every partition has exactly one owner among them, each instance owns exactly what the
 * map gives its URL, and the counts differ by at most one. Resolves with the agreed status of each.
 */
async function agreement(services: RunningService[], partitions = PARTITIONS): Promise<OwnershipStatus[]> {
  const urls = new Set(services.map((s) => s.url))
  return waitFor(
    async () => {
      const views = await Promise.all(services.map(async (s) => (await readiness(s)).ownership))
      const [first] = views
      if (!first || views.some((v) => v.rebalancing || v.generation !== first.generation)) return undefined
      if (views.some((v) => urlsOf(v) !== urlsOf(first))) return undefined
      if (first.owners.length !== partitions) return undefined
      if (first.owners.some((o) => !urls.has(o.url))) return undefined
      const counts = views.map((v) => v.owned.length)
      if (Math.max(...counts) - Math.min(...counts) > 1) return undefined
      const consistent = views.every((v, i) => {
        const mine = v.owners.filter((o) => o.url === services[i]?.url)
        return (
          v.url === services[i]?.url &&
          mine.map((o) => o.partition).join() === v.owned.join() &&
          v.owners.every((o) => o.self === (o.url === v.url))
        )
      })
      return consistent ? views : undefined
    },
    { timeoutMs: 30_000, what: `${services.length} instances to agree on one owner per partition` },
  )
}

/**
 * Follows every service's onChange: the changes replayed from nothing must give what the service
 * owns now, and at no change may two running services both own a partition (all run in this process,
 * so their views can be compared at the same instant).
 */
function watchChanges(services: RunningService[]) {
  const running = new Set(services)
  const replayed = new Map<RunningService, Set<number>>()
  const overlaps: string[] = []
  const follow = (service: RunningService) => {
    running.add(service)
    replayed.set(service, new Set())
    service.ownership.onChange(({ generation, gained, lost }) => {
      const mine = replayed.get(service) as Set<number>
      for (const p of lost) mine.delete(p)
      for (const p of gained) mine.add(p)
      const seen = new Map<number, string>()
      for (const other of running) {
        for (const p of other.ownership.owned()) {
          if (seen.has(p))
            overlaps.push(`generation ${generation}: partition ${p} owned by ${seen.get(p)} and ${other.url}`)
          seen.set(p, other.url)
        }
      }
    })
  }
  services.forEach(follow)
  return {
    follow,
    stopped: (service: RunningService) => running.delete(service),
    overlaps,
    /** What the changes told each running service, against what it owns. */
    check: () => {
      for (const service of running) {
        expect([...(replayed.get(service) ?? [])].sort()).toEqual([...service.ownership.owned()].sort())
      }
    },
  }
}

describe('partition ownership', () => {
  it('gives every partition one owner that all instances agree on, and moves only what it must when one leaves or joins', async () => {
    const topic = await createTopic({ partitions: PARTITIONS })
    const [a, b, c] = [startService(topic), startService(topic), startService(topic)] as const
    const changes = watchChanges([a, b, c])

    const three = await agreement([a, b, c])
    expect(three.map((v) => v.owned.length)).toEqual([2, 2, 2])
    const generation = three[0]?.generation ?? -1
    expect(generation).toBeGreaterThan(0)
    // /stats carries the same map, and /metrics the same numbers (and passes Prometheus' linter).
    const stats = (await (await a.get('/stats')).json()) as { ownership: OwnershipStatus }
    expect(stats.ownership).toEqual(three[0] as OwnershipStatus)
    const text = await (await a.get('/metrics')).text()
    expect(metricValues(text)).toMatchObject({
      saldo_ownership_generation: generation,
      saldo_owned_partitions: 2,
    })
    expect(metricValues(text).saldo_ownership_rebalances_total).toBeGreaterThanOrEqual(1)
    expect(await promtoolCheck(text)).toEqual({ exitCode: 0, output: '' })

    // b leaves the group on stop: its two partitions go to a and c, who keep their own.
    await b.stop()
    changes.stopped(b)
    const two = await agreement([a, c])
    expect(two[0]?.generation).toBeGreaterThan(generation)
    expect(two.map((v) => v.owned.length)).toEqual([3, 3])
    for (const [before, after] of [
      [three[0], two[0]],
      [three[2], two[1]],
    ] as const) {
      expect(after?.owned).toEqual(expect.arrayContaining(before?.owned ?? []))
    }

    // A fourth instance gets its share.
    const d = startService(topic)
    changes.follow(d)
    const again = await agreement([a, c, d])
    expect(again[2]?.owned.length).toBe(2)
    expect(again[0]?.generation).toBeGreaterThan(two[0]?.generation ?? 0)
    changes.check()
    expect(changes.overlaps).toEqual([])
  }, 60_000)
})

describe('writes through an instance that does not own the partition', () => {
  it('are forwarded to the owner, land in the topic once, and are readable at once through the instance written to', async () => {
    const TOKEN = 'integration-token-0123456789'
    const topic = await createTopic({ partitions: 2 })
    const a = startService(topic, { SALDO_API_TOKEN: TOKEN })
    const b = startService(topic, { SALDO_API_TOKEN: TOKEN })
    await Promise.all([waitUntilReady(a), waitUntilReady(b)])
    const [viewOfA] = await agreement([a, b], 2)
    // A client on a partition B owns.
    const id = [...Array(100).keys()]
      .map((i) => `fwd-${i}`)
      .find((k) => viewOfA?.owners[murmur2Partition(Buffer.from(k), 2)]?.url === b.url)
    const put = await a.get(`/saldo/${id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{"saldo": 41.5, "timestamp": "2025-10-14T10:30:45"}',
    })
    expect(put.status).toBe(200)
    const written = await put.json()
    expect(written.balance).toEqual({ cliente_id: id, saldo: 41.5, timestamp: '2025-10-14T10:30:45' })
    expect(put.headers.get('etag')).toMatch(/^"\d+-\d+"$/)
    // Read-your-writes through A, with no position given.
    const read = await a.get(`/saldo/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(await read.json()).toEqual(written.balance)
    const records = (await readTopic(topic)).filter((r) => r.key === id)
    expect(records.map((r) => JSON.parse(r.value ?? 'null'))).toEqual([written.balance])
    const forwarded = (s: RunningService) => s.get('/metrics').then(async (r) => metricValues(await r.text()))
    expect((await forwarded(a))['saldo_forwarded_requests_total{outcome="forwarded"}']).toBe(1)
    expect((await forwarded(b))['saldo_forwarded_requests_total{outcome="forwarded"}']).toBe(0)
  }, 60_000)
})
