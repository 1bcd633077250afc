import { describe, expect, it } from 'bun:test'
import { murmur2Partition } from '../../src/kafka/partitioning.ts'
import {
  createTopic,
  readiness,
  readTopic,
  spawnService,
  startService,
  waitFor,
  waitUntilReady,
} from '../helpers.ts'

const TOKEN = 'integration-token-0123456789'
// The broker's minimum: the frozen owner is declared dead 6 s after its last heartbeat.
const SESSION = { OWNERSHIP_SESSION_TIMEOUT_MS: '6000', SALDO_API_TOKEN: TOKEN }
const encoder = new TextEncoder()

const auth = { authorization: `Bearer ${TOKEN}` }
const put = (url: string, id: string, saldo: number, headers: Record<string, string> = {}) =>
  fetch(`${url}/saldo/${id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...auth, ...headers },
    body: JSON.stringify({ saldo, timestamp: '2025-10-14T10:30:45' }),
  })

describe('a zombie owner', () => {
  it('is fenced: once another instance took its partition, none of its appends lands and its pending writes answer 503', async () => {
    const topic = await createTopic({ partitions: 2 })
    const zombie = spawnService(topic, SESSION)
    await waitUntilReady(zombie)
    await waitFor(async () => (await readiness(zombie)).ownership.owned.length === 2, {
      what: 'the first instance to own both partitions',
    })
    const heir = startService(topic, SESSION)
    await waitUntilReady(heir)
    const { zombiePartition } = await waitFor(
      async () => {
        const [mine, theirs] = await Promise.all([readiness(zombie), readiness(heir)])
        if (mine.ownership.owned.length !== 1 || theirs.ownership.owned.length !== 1) return undefined
        return { zombiePartition: mine.ownership.owned[0] }
      },
      { what: 'the two instances to own a partition each' },
    )
    // Clients on the zombie's partition, each written once through it while it is alive.
    const ids = Array.from({ length: 40 }, (_, i) => `z${i}`)
      .filter((id) => murmur2Partition(encoder.encode(id), 2) === zombiePartition)
      .slice(0, 5)
    expect(ids).toHaveLength(5)
    for (const id of ids) expect((await put(zombie.url, id, 1)).status).toBe(200)

    zombie.proc.kill('SIGSTOP')
    await waitFor(async () => (await readiness(heir)).ownership.owned.length === 2, {
      timeoutMs: 30_000,
      what: 'the heir to own the frozen instance’s partition too',
    })
    for (const id of ids) expect((await put(heir.url, id, 2)).status).toBe(200)

    // Sent while it is frozen; marked as forwarded so that it writes them itself or refuses them,
    // whichever it believes, instead of forwarding them to the heir.
    const pending = ids.map((id) => put(zombie.url, id, 666, { 'x-saldo-forwarded-by': 'http://test' }))
    zombie.proc.kill('SIGCONT')
    const answers = await Promise.all(pending)
    expect(answers.map((res) => res.status)).toEqual(ids.map(() => 503))

    // An independent read_committed read of the topic: every record of these clients, in order.
    const records = (await readTopic(topic)).filter((r) => r.key !== null && ids.includes(r.key))
    const values = (id: string) =>
      records.filter((r) => r.key === id).map((r) => JSON.parse(r.value ?? 'null')?.saldo as number)
    const counts = { acknowledged: ids.length * 2, landed: 0, fromZombie: 0, lost: 0 }
    for (const id of ids) {
      const seen = values(id)
      counts.landed += seen.length
      counts.fromZombie += seen.filter((saldo) => saldo === 666).length
      counts.lost += [1, 2].filter((saldo) => !seen.includes(saldo)).length
      expect(seen).toEqual([1, 2])
    }
    expect(counts).toEqual({ acknowledged: 10, landed: 10, fromZombie: 0, lost: 0 })
    // Both instances end up answering the heir's value.
    for (const id of ids) {
      const res = await heir.get(`/saldo/${id}`, { headers: auth })
      expect({ status: res.status, body: await res.json() }).toMatchObject({
        status: 200,
        body: { saldo: 2 },
      })
      await waitFor(
        async () => (await (await fetch(`${zombie.url}/saldo/${id}`, { headers: auth })).json()).saldo === 2,
        {
          what: `the resumed instance to read ${id} as the heir wrote it`,
        },
      )
    }
  }, 90_000)
})
