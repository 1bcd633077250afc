import { describe, expect } from 'bun:test'
import { connect } from 'node:net'
import { join } from 'node:path'
import {
  balanceRecord,
  createTopic,
  seededIt as it,
  latestByKey,
  onCleanup,
  produce,
  producePaced,
  randomInt,
  startService,
  waitFor,
  waitUntilReady,
} from '../helpers.ts'

// CI runs a short load; `bun run soak` runs the same test for longer (LOAD_SECONDS=60).
const SECONDS = Number(process.env.LOAD_SECONDS ?? 15)
const UPDATES_PER_SECOND = 1000
const KEYS = 10_000
const CONNECTIONS = 20
const REQUESTS_PER_SECOND = 1000
const STUCK_EVENT_CLIENTS = 5

describe('load', () => {
  it(`serves a fixed-rate GET load with zero errors while ${UPDATES_PER_SECOND} updates/s are applied and /events clients are stuck, none lost`, async () => {
    const topic = await createTopic({ partitions: 3 })
    await produce(
      topic,
      Array.from({ length: KEYS }, (_, i) => balanceRecord(String(i + 1), 0)),
    )
    const service = startService(topic)
    await waitUntilReady(service)

    // Stuck /events clients (they never read) for the whole run: they must not slow reads or applies.
    for (let i = 0; i < STUCK_EVENT_CLIENTS; i++) {
      const socket = connect(Number(new URL(service.url).port), '127.0.0.1')
      socket.pause()
      socket.write('GET /events HTTP/1.1\r\nHost: saldo\r\n\r\n')
      onCleanup(() => socket.destroy())
    }
    await waitFor(() => service.events.clients === STUCK_EVENT_CLIENTS, { what: 'the stuck /events clients' })

    // The benchmark's wrk script: GETs of random ids 1..KEYS, paced to REQUESTS_PER_SECOND.
    const script = join(import.meta.dir, '../../scripts/bench/random-get.lua')
    const wrk = Bun.spawn(
      [
        'wrk',
        '-t1',
        `-c${CONNECTIONS}`,
        `-d${SECONDS}s`,
        '-s',
        script,
        service.url,
        '--',
        String(KEYS),
        String(REQUESTS_PER_SECOND),
      ],
      { stdout: 'pipe', stderr: 'pipe' },
    )
    // The updates: a batch of 100 every 100 ms, each to a random key, for the same duration.
    const sent = await producePaced(
      topic,
      { perSecond: UPDATES_PER_SECOND, seconds: SECONDS },
      (tick, size) => Array.from({ length: size }, () => balanceRecord(String(1 + randomInt(KEYS)), tick)),
    )
    const [out, code] = await Promise.all([new Response(wrk.stdout).text(), wrk.exited])
    expect(code).toBe(0)
    const stats = JSON.parse(out.trim().split('\n').at(-1) ?? '{}')
    console.log(
      `load: ${stats.requests} GETs in ${SECONDS}s (p50 ${stats.p50Us} µs, p99 ${stats.p99Us} µs), ${stats.errors} errors; ${sent} updates produced`,
    )
    expect(stats.requests).toBeGreaterThan(SECONDS * REQUESTS_PER_SECOND * 0.8)
    // wrk's errors: failed connects, reads, writes, timeouts, and answers other than 2xx/3xx.
    expect(stats.errors).toBe(0)
    expect(sent).toBeGreaterThanOrEqual(SECONDS * UPDATES_PER_SECOND * 0.9)
    // Nothing lost: every key answers its newest value, as an independent read of the topic says.
    const reference = await latestByKey(topic)
    await waitFor(() => service.store.size === reference.size, { what: 'every key' })
    await waitFor(
      () => [...reference].every(([id, value]) => service.store.get(id)?.saldo === JSON.parse(value).saldo),
      { what: 'every update applied' },
    )
  })
})
