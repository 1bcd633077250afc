import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import {
  balanceRecord,
  createTopic,
  produce,
  spawnService,
  startService,
  waitFor,
  waitUntilReady,
} from '../helpers.ts'

const TOKEN = 'http-limits-token-0123456789'
const FIFTY_MB = 50 * 1024 * 1024

/** The peak resident memory of a process so far (Linux VmHWM), in bytes. */
function peakRss(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return Number(kb) * 1024
}

/** A body of `size` bytes sent in chunks, with no Content-Length: the server only sees its size by reading. */
function streamed(size: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(1024 * 1024).fill(0x7b)
  let sent = 0
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close()
      sent += chunk.byteLength
      controller.enqueue(chunk)
    },
  })
}

/** The status of a request whose answer may come, and the connection close, before the body is sent. */
async function statusOf(url: string, init: RequestInit): Promise<number | string> {
  try {
    const res = await fetch(url, init)
    await res.arrayBuffer()
    return res.status
  } catch (error) {
    return (error as Error).message
  }
}

describe('HTTP limits of the real server', () => {
  it('answers 50 MB bodies 401 or 413 on every write route without reading them: peak RSS stays flat', async () => {
    const topic = await createTopic()
    const api = spawnService(topic, { SALDO_API_TOKEN: TOKEN })
    await waitUntilReady(api)
    const before = peakRss(api.proc.pid)
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
    const json = { 'content-type': 'application/json' }
    const cases: Array<[string, string, Record<string, string>, 'sized' | 'streamed', number[]]> = [
      ['DELETE', '/saldo/1', json, 'sized', [401, 413]],
      ['DELETE', '/saldo/1', json, 'streamed', [401]],
      ['PUT', '/saldo/1', json, 'sized', [401, 413]],
      ['PUT', '/saldo/1', json, 'streamed', [401]],
      ['POST', '/saldos', json, 'streamed', [401]],
      ['PUT', '/saldo/1', auth, 'sized', [413]],
      ['PUT', '/saldo/1', auth, 'streamed', [413]],
      ['POST', '/saldos', auth, 'streamed', [413]],
      ['DELETE', '/saldo/1', auth, 'sized', [413]],
    ]
    for (const [method, path, headers, how, statuses] of cases) {
      for (let round = 0; round < 2; round++) {
        const body = how === 'sized' ? new Uint8Array(FIFTY_MB) : streamed(FIFTY_MB)
        const status = await statusOf(`${api.url}${path}`, { method, headers, body })
        const what = `${method} ${path} ${how}${'authorization' in headers ? ' with the token' : ''}`
        expect({ what, status, expected: statuses.includes(status as number) }).toEqual({
          what,
          status,
          expected: true,
        })
      }
    }
    const grown = peakRss(api.proc.pid) - before
    console.log(
      `peak RSS grew by ${(grown / 1024 / 1024).toFixed(1)} MB over ${cases.length * 2} bodies of 50 MB`,
    )
    expect(grown).toBeLessThan(32 * 1024 * 1024)
    expect((await api.get('/health')).status).toBe(200)
  })

  it('serves 1000 ids of 20 bytes through POST /saldos, which a GET cannot carry (Bun: 431 past 16 KiB)', async () => {
    const topic = await createTopic()
    await produce(topic, [balanceRecord('cliente-0000-0000001', 1)])
    const api = startService(topic)
    await waitUntilReady(api)
    const ids = Array.from({ length: 1000 }, (_, i) => `cliente-${String(i).padStart(4, '0')}-0000001`)
    const tooLong = await api.get(`/saldos?ids=${ids.join(',')}`)
    expect(tooLong.status).toBe(431)
    const res = await api.get('/saldos', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ids }),
    })
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body.balances).toEqual([
      { cliente_id: 'cliente-0000-0000001', saldo: 1, timestamp: '2025-10-14T10:30:45' },
    ])
    expect(body.missing).toHaveLength(999)
  })

  it('refuses to start a second saldo-api on the same HOST:PORT: exit 1, "port in use", no stack trace', async () => {
    const topic = await createTopic()
    const first = spawnService(topic)
    await waitUntilReady(first)
    const port = new URL(first.url).port
    const second = spawnService(topic, { PORT: port })
    await waitFor(() => second.proc.exitCode !== null, {
      timeoutMs: 15_000,
      what: 'the second saldo-api to exit',
    })
    expect(second.proc.exitCode).toBe(1)
    expect(second.stderr()).toContain(`port in use: 127.0.0.1:${port}`)
    expect(second.stderr()).not.toMatch(/^\s+at /m)
    expect((await first.get('/health')).status).toBe(200)
  })
})
