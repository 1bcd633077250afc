import { beforeEach, describe, expect, it } from 'bun:test'
import { createApp } from '../../src/http/app.ts'
import { ReplayProgress } from '../../src/kafka/replay-progress.ts'
import { MemoryStore } from '../../src/store/memory-store.ts'
import { captureLog } from '../helpers.ts'

const seed = { cliente_id: '1', saldo: 150, timestamp: '2025-10-14T10:30:45' }

function setup({ ready = true } = {}) {
  const store = new MemoryStore()
  store.apply(
    0,
    [
      { kind: 'put', balance: seed },
      { kind: 'put', balance: { ...seed, cliente_id: 'é/ü', saldo: -2.5 } },
    ],
    2,
  )
  const progress = new ReplayProgress()
  progress.begin(new Map([[0, ready ? 2 : 10]]), new Map([[0, 2]]))
  const { log } = captureLog()
  const app = createApp({
    store,
    progress,
    log,
    retryAfterSeconds: 3,
    kafkaStatus: () => ({ connected: true, lastError: undefined, warning: undefined }),
  })
  const get = (path: string) => app.handle(new Request(`http://localhost${path}`))
  return { app, store, progress, get }
}

describe('GET /saldo/:cliente_id', () => {
  let get: (path: string) => Promise<Response>
  beforeEach(() => {
    get = setup().get
  })

  it("answers 200 with the seed's shape", async () => {
    const res = await get('/saldo/1')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual(seed)
  })

  it('finds percent-encoded ids', async () => {
    const res = await get(`/saldo/${encodeURIComponent('é/ü')}`)
    expect(res.status).toBe(200)
    expect((await res.json()).saldo).toBe(-2.5)
  })

  it('answers 404 with the contract text for an unknown client', async () => {
    const res = await get('/saldo/999')
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: 'cliente não encontrado' })
  })

  const badIds: Array<[string, string]> = [
    ['/saldo/', 'empty'],
    [`/saldo/${'x'.repeat(129)}`, '128 bytes'],
    [`/saldo/${'%C3%A9'.repeat(65)}`, '128 bytes'],
    ['/saldo/a%00b', 'control characters'],
    ['/saldo/a%0Ab', 'control characters'],
    ['/saldo/%zz', 'percent-encoded'],
    ['/saldo/%C3', 'percent-encoded'],
  ]
  for (const [path, message] of badIds) {
    it(`answers 400 for ${path.slice(0, 40)}`, async () => {
      const res = await get(path)
      expect(res.status).toBe(400)
      expect((await res.json()).error).toContain(message)
    })
  }

  it('answers 503 with progress and Retry-After until the replay is complete, never 404', async () => {
    const { get } = setup({ ready: false })
    for (const path of ['/saldo/1', '/saldo/999', '/saldos?ids=1,2']) {
      const res = await get(path)
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('3')
      const body = await res.json()
      expect(body.error).toContain('replaying')
      expect(body.progress).toMatchObject({
        ready: false,
        remaining: 8,
        partitions: [{ partition: 0, position: 2, endOffset: 10 }],
      })
    }
  })
})

describe('GET /saldos', () => {
  it('answers many balances at once and lists the missing ids', async () => {
    const { get } = setup()
    const res = await get('/saldos?ids=1,404,1')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ balances: [seed], missing: ['404'] })
  })

  it('refuses more than 1000 ids, a bad id and a missing ids parameter', async () => {
    const { get } = setup()
    const many = Array.from({ length: 1001 }, (_, i) => i).join(',')
    for (const [path, message] of [
      [`/saldos?ids=${many}`, 'at most 1000'],
      ['/saldos?ids=1,,2', 'empty'],
      ['/saldos', 'ids'],
    ] as const) {
      const res = await get(path)
      expect(res.status).toBe(400)
      expect((await res.json()).error).toContain(message)
    }
  })
})

describe('health and readiness', () => {
  it('answers /health 200 always, and /ready 503 then 200 with per-partition progress', async () => {
    const { get, progress } = setup({ ready: false })
    expect((await get('/health')).status).toBe(200)
    const before = await get('/ready')
    expect(before.status).toBe(503)
    expect(await before.json()).toMatchObject({
      ready: false,
      keys: 2,
      loadedFromSnapshot: 0,
      replayedOffsets: 0,
      kafka: { connected: true },
      warnings: [],
    })
    progress.advance(0, 10)
    const after = await get('/ready')
    expect(after.status).toBe(200)
    expect(await after.json()).toMatchObject({
      ready: true,
      partitions: [{ partition: 0, position: 10, endOffset: 10 }],
    })
  })
})

describe('errors', () => {
  it('answers unknown routes with a JSON 404 that is not the client text', async () => {
    const res = await setup().get('/nothing')
    expect(res.status).toBe(404)
    expect((await res.json()).error).toContain('no route GET /nothing')
  })
})
