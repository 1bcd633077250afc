import { describe, expect, it } from 'bun:test'
import { connect } from 'node:net'
import {
  balanceRecord,
  createTopic,
  metricValues,
  onCleanup,
  produce,
  spawnService,
  startService,
  waitFor,
  waitUntilReady,
} from '../helpers.ts'

/** A raw HTTP/1.1 request on a socket of its own, kept open; `received` fills with what comes back. */
function rawGet(port: number, path: string) {
  const socket = connect(port, '127.0.0.1')
  onCleanup(() => socket.destroy())
  const client = { socket, received: '', closed: false }
  socket.on('data', (chunk) => {
    client.received += chunk.toString()
  })
  socket.on('close', () => {
    client.closed = true
  })
  socket.on('error', () => {})
  socket.write(`GET ${path} HTTP/1.1\r\nHost: saldo\r\n\r\n`)
  return client
}

describe('/events limits', () => {
  it('refuses streams past EVENTS_MAX_CLIENTS with a 503 and Retry-After, so /health answers under a low descriptor limit', async () => {
    const topic = await createTopic({ partitions: 1 })
    // 300 streams would need more descriptors than the process has: without a cap, accept() fails.
    const service = spawnService(topic, { EVENTS_MAX_CLIENTS: '100' }, { maxOpenFiles: 256 })
    await waitUntilReady(service)
    const port = Number(new URL(service.url).port)
    const clients = Array.from({ length: 300 }, () => rawGet(port, '/events'))
    await waitFor(() => clients.every((c) => c.received.startsWith('HTTP/1.1 ')), {
      what: 'an answer on all 300 connections',
      timeoutMs: 20_000,
    })
    const streaming = clients.filter((c) => c.received.startsWith('HTTP/1.1 200'))
    const refused = clients.filter((c) => c.received.startsWith('HTTP/1.1 503'))
    expect([streaming.length, refused.length]).toEqual([100, 200])
    for (const client of refused) {
      expect(client.received).toMatch(/\r\nretry-after: 2\r\n/i)
      expect(client.received).toContain('(EVENTS_MAX_CLIENTS); retry after the Retry-After seconds')
    }
    await waitFor(() => refused.every((c) => c.closed), { what: 'the refused connections to be closed' })

    const health = await service.get('/health', { signal: AbortSignal.timeout(2_000) })
    expect(health.status).toBe(200)
    const metrics = metricValues(await (await service.get('/metrics')).text())
    expect(metrics.saldo_events_clients).toBe(100)
    expect(metrics.saldo_events_clients_refused_total).toBe(200)
    // A stream that ends makes room for another.
    streaming[0]?.socket.destroy()
    await waitFor(async () => (await service.get('/events')).status === 200, { what: 'a free stream' })
  })

  it('drops a client that stops reading within EVENTS_STALL_TIMEOUT_MS, long before its queue is full', async () => {
    const topic = await createTopic({ partitions: 1 })
    const stallTimeoutMs = 1_000
    const service = startService(topic, {
      EVENTS_STALL_TIMEOUT_MS: String(stallTimeoutMs),
      EVENTS_CLIENT_BUFFER_BYTES: String(256 * 1024 * 1024),
    })
    await waitUntilReady(service)
    const stuck = rawGet(Number(new URL(service.url).port), '/events')
    stuck.socket.pause()
    await waitFor(() => service.events.clients === 1, { what: 'the client connected' })

    // Enough to fill loopback's socket buffers (a few MB): then events wait in the client's queue.
    const total = 40_000
    const id = (i: number) => `${'x'.repeat(100)}-${i}`
    const records = Array.from({ length: total }, (_, i) => balanceRecord(id(i), i))
    // In slices under the broker's 1 MB request limit.
    for (let i = 0; i < total; i += 2_000) await produce(topic, records.slice(i, i + 2_000))
    await waitFor(() => service.store.size === total, { what: 'every record applied' })
    const appliedAt = Date.now()
    await waitFor(() => service.events.clients === 0, { what: 'the stuck client to be dropped' })
    expect(Date.now() - appliedAt).toBeLessThan(stallTimeoutMs * 1.25 + 500)
    const metrics = metricValues(await (await service.get('/metrics')).text())
    expect(metrics.saldo_events_clients_dropped_total).toBe(1)

    stuck.socket.resume()
    await waitFor(() => stuck.received.includes('event: error'), { what: 'the error event at the end' })
    expect(stuck.received).toMatch(/read nothing of its events for \d+ ms/)
  })
})
