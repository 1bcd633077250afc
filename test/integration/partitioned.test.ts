import { describe, expect } from 'bun:test'
import { checkedReads, missesAfter } from '../../scripts/bench/checked-reads.ts'
import type { ReadyAnswer } from '../../src/http/models.ts'
import { murmur2Partition } from '../../src/kafka/partitioning.ts'
import {
  balanceRecord,
  createTopic,
  seededIt as it,
  produce,
  type Reachable,
  randomInt,
  readiness,
  spawnService,
  startService,
  waitFor,
  waitUntilReady,
} from '../helpers.ts'

const PARTITIONS = 12
const KEYS = 1200
const TOKEN = 'a-token-of-16-chars-or-more'
const auth = { authorization: `Bearer ${TOKEN}` }
const ids = Array.from({ length: KEYS }, (_, i) => `c${i}`)
const partitionOf = (id: string) => murmur2Partition(Buffer.from(id), PARTITIONS)
const saldoOf = (id: string) => Number(id.slice(1)) + 0.5
/** A read with the token (a spawned service's `get` takes no headers). */
const read = (service: Reachable, path: string) => fetch(`${service.url}${path}`, { headers: auth })
/** Keys written through the API during the test, besides `ids`. */
const written: string[] = []
const keysOf = (partitions: readonly number[]) =>
  [...ids, ...written].filter((id) => partitions.includes(partitionOf(id))).length

const SETTINGS = {
  MODE: 'partitioned',
  STANDBY_REPLICAS: '1',
  SALDO_API_TOKEN: TOKEN,
  // The broker's minimum: a killed instance's partitions move after this long.
  OWNERSHIP_SESSION_TIMEOUT_MS: '6000',
  READ_FORWARD_TIMEOUT_MS: '300',
  RETRY_AFTER_S: '1',
}

/** Waits until every instance is ready in one generation whose map names exactly them, each holding what it is given. */
async function settled(services: Reachable[]): Promise<ReadyAnswer[]> {
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
      const held = views.every((v) => {
        const mine = [...v.ownership.owned, ...v.ownership.standbys].sort((a, b) => a - b)
        return v.partitions.map((p) => p.partition).join() === mine.join() && v.keys === keysOf(mine)
      })
      return held ? views : undefined
    },
    { timeoutMs: 40_000, what: `${services.length} partitioned instances to settle` },
  )
}

/** Reads random keys through random instances until stopped, judging each answer. */
const readLoop = (through: () => Reachable[]) =>
  checkedReads({ through, ids, saldoOf, partitionOf, headers: auth, clients: 1, randomInt })

describe('MODE=partitioned', () => {
  it('spreads the keys over the instances, answers every key everywhere, and survives a kill -9 and a join', async () => {
    const topic = await createTopic({ partitions: PARTITIONS })
    await produce(
      topic,
      ids.map((id) => balanceRecord(id, saldoOf(id))),
    )
    const a = startService(topic, SETTINGS)
    const b = startService(topic, SETTINGS)
    const c = spawnService(topic, SETTINGS)
    const views = await settled([a, b, c])
    for (const view of views) {
      // A third as owner, a third as standby.
      expect(view.ownership.owned.length).toBe(PARTITIONS / 3)
      expect(view.ownership.standbys.length).toBe(PARTITIONS / 3)
      expect(view.keys).toBeLessThan(KEYS * 0.75)
    }
    const ownerOf = new Map(views[0]?.ownership.owners.map((o) => [o.partition, o.url]))

    // Every key, through every instance, with who answered: itself when it holds the key, else the owner.
    for (const [i, service] of [a, b, c].entries()) {
      const held = new Set([...(views[i]?.ownership.owned ?? []), ...(views[i]?.ownership.standbys ?? [])])
      for (const id of ids.filter((_, n) => n % 4 === i)) {
        const res = await read(service, `/saldo/${id}`)
        expect(res.status).toBe(200)
        expect(((await res.json()) as { saldo: number }).saldo).toBe(saldoOf(id))
        const partition = partitionOf(id)
        expect(res.headers.get('x-saldo-served-by')).toBe(
          held.has(partition) ? service.url : (ownerOf.get(partition) ?? null),
        )
      }
      const many = await read(service, `/saldos?ids=${ids.slice(0, 200).join(',')}`)
      expect(((await many.json()) as { balances: unknown[] }).balances.length).toBe(200)
    }

    // A write through one instance is read through another with min_position.
    written.push('new-1')
    const put = await a.get('/saldo/new-1', {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ saldo: 42, timestamp: '2025-10-14T11:00:00' }),
    })
    expect(put.status).toBe(200)
    const { position } = (await put.json()) as { position: string }
    const again = await read(c, `/saldo/new-1?min_position=${position}`)
    expect(((await again.json()) as { saldo: number }).saldo).toBe(42)

    // kill -9 c under read load: its keys are answered by a standby, then by their new owners.
    const killed = readLoop(() => [a, b])
    await waitFor(() => killed.counts.right > 200, { what: 'reads before the kill' })
    const killedAt = performance.now()
    c.proc.kill(9)
    const after = await settled([a, b])
    await waitFor(() => killed.counts.right > 2000, { what: 'reads after the move' })
    const { counts: duringKill, reads } = await killed.stop()
    console.log('reads while c was killed and its partitions moved:', duringKill, {
      gapMs: missesAfter(reads, killedAt).lastMs,
    })
    expect(duringKill.wrong).toBe(0)
    expect(duringKill.notFound).toBe(0)
    expect(duringKill.other).toBe(0)
    expect(duringKill.byStandby).toBeGreaterThan(0)
    for (const view of after) expect(view.ownership.owned.length).toBe(PARTITIONS / 2)

    // A fourth joins under read load: it takes its share, and nobody answers wrong meanwhile.
    const joining = readLoop(() => [a, b])
    const d = startService(topic, SETTINGS)
    const spread = await settled([a, b, d])
    const { counts: duringJoin } = await joining.stop()
    console.log('reads while d joined:', duringJoin)
    expect(duringJoin.wrong).toBe(0)
    expect(duringJoin.notFound).toBe(0)
    for (const view of spread) expect(view.keys).toBeLessThan(KEYS * 0.75)
  }, 90_000)

  it('is ready holding no partition at all, and answers every key by asking its owner', async () => {
    // One partition and no standby: the second instance is given nothing.
    const topic = await createTopic({ partitions: 1 })
    const keys = ids.slice(0, 20)
    await produce(
      topic,
      keys.map((id) => balanceRecord(id, saldoOf(id))),
    )
    const settings = { ...SETTINGS, STANDBY_REPLICAS: '0' }
    const owner = startService(topic, settings)
    await waitUntilReady(owner)
    const idle = startService(topic, settings)
    const view = await waitFor(
      async () => {
        const res = await idle.get('/ready')
        const body = (await res.json()) as ReadyAnswer
        return res.status === 200 && body.ownership.owners.length === 1 ? body : undefined
      },
      { timeoutMs: 20_000, what: 'the instance given no partition to answer /ready 200 with the owner map' },
    )
    expect(view.ownership).toMatchObject({ mode: 'partitioned', owned: [], standbys: [] })
    expect(view.ownership.owners).toEqual([
      expect.objectContaining({ partition: 0, url: owner.url, self: false, standbys: [] }),
    ])
    expect(view.partitions).toEqual([])
    for (const id of keys) {
      const res = await read(idle, `/saldo/${id}`)
      expect(res.status).toBe(200)
      expect(((await res.json()) as { saldo: number }).saldo).toBe(saldoOf(id))
      expect(res.headers.get('x-saldo-served-by')).toBe(owner.url)
    }
    const many = await read(idle, `/saldos?ids=${keys.join(',')}`)
    expect(((await many.json()) as { balances: unknown[] }).balances.length).toBe(keys.length)
    expect(many.headers.get('x-saldo-served-by')).toBe(owner.url)

    // Its owner leaves: it takes the partition, is ready again once caught up, and answers itself.
    await owner.stop()
    const mine = await waitFor(
      async () => {
        const body = await readiness(idle)
        return body.ready && body.ownership.owned.join() === '0' ? body : undefined
      },
      { timeoutMs: 20_000, what: 'the idle instance to own the partition, caught up' },
    )
    expect(mine.keys).toBe(keys.length)
    const local = await read(idle, `/saldo/${keys[0]}`)
    expect(local.headers.get('x-saldo-served-by')).toBe(idle.url)
  })

  it('warns on /ready, on both sides, when the instances of a group run different modes', async () => {
    const topic = await createTopic({ partitions: 4 })
    const partitionedOne = startService(topic, SETTINGS)
    const replicaOne = startService(topic, { ...SETTINGS, MODE: 'replica' })
    for (const [service, other] of [
      [partitionedOne, replicaOne],
      [replicaOne, partitionedOne],
    ] as const) {
      const warning = await waitFor(
        async () => (await readiness(service)).warnings.find((w) => w.includes(`${other.url} runs MODE=`)),
        { what: 'the mode warning' },
      )
      expect(warning).toContain('set the same MODE on every instance')
    }
  })
})
