import { describe, expect, it } from 'bun:test'
import type { ReadyAnswer } from '../../src/http/models.ts'
import { murmur2Partition } from '../../src/kafka/partitioning.ts'
import {
  balanceRecord,
  createTopic,
  produce,
  type RunningService,
  readiness,
  startService,
  waitFor,
} from '../helpers.ts'

const PARTITIONS = 12
const KEYS = 1200
const ids = Array.from({ length: KEYS }, (_, i) => `c${i}`)
const partitionOf = (id: string) => murmur2Partition(Buffer.from(id), PARTITIONS)
const saldoOf = (id: string) => Number(id.slice(1)) + 0.5

const partitioned = (topic: string) =>
  startService(topic, {
    MODE: 'partitioned',
    STANDBY_REPLICAS: '1',
    OWNERSHIP_SESSION_TIMEOUT_MS: '6000',
    READ_FORWARD_TIMEOUT_MS: '300',
  })

/** Waits until every instance is ready in one generation whose map names exactly them. */
async function settled(services: RunningService[]): Promise<ReadyAnswer[]> {
  const urls = services.map((s) => s.url).sort()
  return waitFor(
    async () => {
      const views = await Promise.all(services.map(readiness))
      const [first] = views
      if (!first || views.some((v) => !v.ready || v.ownership.generation !== first.ownership.generation))
        return undefined
      const owners = new Set(first.ownership.owners.map((o) => o.url))
      if (first.ownership.owners.length !== PARTITIONS || [...owners].sort().join() !== urls.join())
        return undefined
      // Each holds exactly what the map gives it, all of it read.
      const held = views.every((v) => {
        const mine = [...v.ownership.owned, ...v.ownership.standbys].sort((a, b) => a - b)
        return v.partitions.map((p) => p.partition).join() === mine.join() && v.keys === keysOf(mine)
      })
      return held ? views : undefined
    },
    { timeoutMs: 40_000, what: `${services.length} partitioned instances to settle` },
  )
}

const keysOf = (partitions: readonly number[]) =>
  ids.filter((id) => partitions.includes(partitionOf(id))).length

describe('MODE=partitioned', () => {
  it('holds about a third of the keys plus standbys on each of 3 instances', async () => {
    const topic = await createTopic({ partitions: PARTITIONS })
    await produce(
      topic,
      ids.map((id) => balanceRecord(id, saldoOf(id))),
    )
    const services = [partitioned(topic), partitioned(topic), partitioned(topic)]
    const views = await settled(services)
    for (const view of views) {
      expect(view.ownership.owned.length).toBe(4)
      expect(view.ownership.standbys.length).toBe(4)
      expect(view.keys).toBeLessThan(KEYS * 0.8)
    }
  }, 90_000)
})
