import { describe, expect, it } from 'bun:test'
import type { BalanceChanged } from '../../src/events/models.ts'
import { readEvents, waitFor } from '../helpers.ts'
import { seed, setup } from './app-fixture.ts'

describe('GET /events', () => {
  it('answers an event stream of the changes of the requested ids, resumable with Last-Event-ID', async () => {
    const { get, events } = setup()
    const res = await get('/events?ids=1,2')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('no-store')
    const client = readEvents(res.body as ReadableStream<Uint8Array>)
    events.publish(0, [{ kind: 'put', balance: { ...seed, saldo: 1 } }], [2])
    events.publish(0, [{ kind: 'put', balance: { ...seed, cliente_id: '3' } }], [3])
    events.publish(0, [{ kind: 'put', balance: { ...seed, saldo: 2 } }], [4])
    await waitFor(() => client.events.length === 2, { what: 'the two changes of client 1' })
    expect(client.data<BalanceChanged>('change').map((c) => [c.saldo, c.position])).toEqual([
      [1, '0:3'],
      [2, '0:5'],
    ])

    const resumed = readEvents(
      (await get('/events', { 'last-event-id': client.events[0]?.id ?? '' }))
        .body as ReadableStream<Uint8Array>,
    )
    await waitFor(() => resumed.events.length === 2, { what: 'the changes after the first one' })
    expect(resumed.data<BalanceChanged>('change').map((c) => c.cliente_id)).toEqual(['3', '1'])
  })

  it('answers 503 with Retry-After past EVENTS_MAX_CLIENTS streams, and closes that connection', async () => {
    const { get, events } = setup()
    const open = await Promise.all([1, 2, 3].map(() => get('/events')))
    for (const res of open) readEvents(res.body as ReadableStream<Uint8Array>)
    expect(open.map((res) => res.status)).toEqual([200, 200, 200])

    const refused = await get('/events')
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('3')
    expect(refused.headers.get('connection')).toBe('close')
    expect((await refused.json()).error).toBe(
      '3 streams are open, the most this instance serves (EVENTS_MAX_CLIENTS); retry after the Retry-After seconds, or use another instance',
    )
    expect(events.clients).toBe(3)
    expect((await get('/health')).status).toBe(200)
  })

  it('refuses a bad id in the filter with a 400, like /saldos', async () => {
    const { get, events } = setup()
    const res = await get('/events?ids=1,,2')
    expect(res.status).toBe(400)
    expect((await res.json()).error).toContain('empty')
    expect(events.clients).toBe(0)
  })
})
