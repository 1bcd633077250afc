import { describe, expect, it } from 'bun:test'
import type { OwnershipStatus } from '../../src/ownership/models.ts'
import {
  createTopic,
  metricValues,
  promtoolCheck,
  type RunningService,
  readiness,
  startService,
  waitFor,
} from '../helpers.ts'

const PARTITIONS = 6

/** partition → owner URL, from one instance's view. */
const urlsOf = (status: OwnershipStatus) => status.owners.map((o) => `${o.partition}=${o.url}`).join(' ')

/**
 * Waits until every instance of `services` reports the same completed generation and the same owner
 * map, in which every partition has exactly one owner among them, each instance owns exactly what the
 * map gives its URL, and the counts differ by at most one. Resolves with the agreed status of each.
 */
async function agreement(services: RunningService[]): Promise<OwnershipStatus[]> {
  const urls = new Set(services.map((s) => s.url))
  return waitFor(
    async () => {
      const views = await Promise.all(services.map(async (s) => (await readiness(s)).ownership))
      const [first] = views
      if (!first || views.some((v) => v.rebalancing || v.generation !== first.generation)) return undefined
      if (views.some((v) => urlsOf(v) !== urlsOf(first))) return undefined
      if (first.owners.map((o) => o.partition).join() !== '0,1,2,3,4,5') return undefined
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

describe('partition ownership', () => {
  it('gives every partition one owner that all instances agree on, and moves only what it must when one leaves or joins', async () => {
    const topic = await createTopic({ partitions: PARTITIONS })
    const [a, b, c] = [startService(topic), startService(topic), startService(topic)] as const

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
    const again = await agreement([a, c, d])
    expect(again[2]?.owned.length).toBe(2)
    expect(again[0]?.generation).toBeGreaterThan(two[0]?.generation ?? 0)
  }, 60_000)
})
