import { describe, expect, it } from 'bun:test'
import { ChangeHub, type ChangeHubOptions, TooManyClients } from '../../src/events/change-hub.ts'
import type { BalanceChanged, BalanceDeleted, StreamError, StreamReset } from '../../src/events/models.ts'
import type { Change } from '../../src/store/store.ts'
import { onCleanup, readEvents, waitFor } from '../helpers.ts'

const put = (id: string, saldo: number): Change => ({
  kind: 'put',
  balance: { cliente_id: id, saldo, timestamp: '2025-10-14T10:30:45' },
})
const del = (id: string): Change => ({ kind: 'delete', clienteId: id })

function hub(options: Partial<ChangeHubOptions> = {}) {
  const hub = new ChangeHub({
    bufferSize: 100,
    bufferBytes: 1024 * 1024,
    clientBufferBytes: 64 * 1024,
    heartbeatMs: 60_000,
    maxClients: 100,
    stallTimeoutMs: 60_000,
    ...options,
  })
  onCleanup(() => hub.close())
  return hub
}

/** Publishes one single-change batch per saldo, on partition 0 at offsets 0, 1, 2… */
function publishMany(target: ChangeHub, saldos: number[], id = 'k') {
  for (const saldo of saldos) target.publish(0, [put(id, saldo)], [saldo])
}

const saldos = (client: ReturnType<typeof readEvents>) =>
  client.data<BalanceChanged>('change').map((c) => c.saldo)

describe('ChangeHub', () => {
  it('on a rebuild, sends every client a reset into a new epoch, and refuses a resume from the old one', async () => {
    const changes = hub()
    const client = readEvents(changes.open())
    publishMany(changes, [1, 2])
    const before = changes.lastEventId
    changes.reset('the topic was recreated')
    publishMany(changes, [3])

    await waitFor(() => client.events.length === 4, { what: 'two changes, a reset, a change' })
    expect(client.events.map((e) => e.event)).toEqual(['change', 'change', 'reset', 'change'])
    expect(client.data<StreamReset>('reset')[0]?.reason).toContain('the topic was recreated')
    const resetId = client.events[2]?.id as string
    expect(resetId.split('-')[0]).not.toBe(before.split('-')[0])

    const old = readEvents(changes.open({ lastEventId: before }))
    await waitFor(() => old.events.length === 1, { what: 'a reset for an id of the old epoch' })
    expect(old.events[0]?.event).toBe('reset')
    const resumed = readEvents(changes.open({ lastEventId: resetId }))
    await waitFor(() => resumed.events.length === 1, { what: 'the change after the reset' })
    expect(saldos(resumed)).toEqual([3])
  })

  it('streams changes and deletes with their position, in the order they were applied', async () => {
    const changes = hub()
    const client = readEvents(changes.open())
    changes.publish(2, [put('1', 10), del('2')], [7, 9])
    changes.publish(0, [put('3', -1.5)], [4])

    await waitFor(() => client.events.length === 3, { what: 'three events' })
    expect(client.events.map((e) => e.event)).toEqual(['change', 'delete', 'change'])
    expect(client.data<BalanceChanged>('change')).toEqual([
      { cliente_id: '1', saldo: 10, timestamp: '2025-10-14T10:30:45', position: '2:8' },
      { cliente_id: '3', saldo: -1.5, timestamp: '2025-10-14T10:30:45', position: '0:5' },
    ])
    expect(client.data<BalanceDeleted>('delete')).toEqual([{ cliente_id: '2', position: '2:10' }])
    const sequence = client.events.map((e) => Number(e.id?.split('-')[1]))
    expect(sequence).toEqual([1, 2, 3])
    expect(client.lastEventId).toBe(changes.lastEventId)
  })

  it('sends only the changes of the requested ids', async () => {
    const changes = hub()
    const client = readEvents(changes.open({ ids: new Set(['b', 'c']) }))
    changes.publish(0, [put('a', 1), put('b', 2), put('a', 3)], [0, 1, 2])
    changes.publish(1, [del('c'), put('d', 4)], [0, 1])
    changes.publish(1, [put('b', 5)], [2])

    await waitFor(() => client.events.length === 3, { what: 'the three events of b and c' })
    expect(client.events.map((e) => JSON.parse(e.data).cliente_id)).toEqual(['b', 'c', 'b'])
  })

  it('resumes after Last-Event-ID without gaps or repeats, then goes on live', async () => {
    const changes = hub()
    const first = readEvents(changes.open())
    changes.publish(0, [put('a', 1), put('b', 2)], [0, 1])
    changes.publish(1, [put('c', 3)], [0])
    await waitFor(() => first.events.length === 3)
    const resumeAfter = first.events[0]?.id
    await first.cancel()

    changes.publish(0, [put('d', 4), put('e', 5)], [2, 3])
    const resumed = readEvents(changes.open({ lastEventId: resumeAfter }))
    changes.publish(2, [put('f', 6)], [0])

    await waitFor(() => resumed.events.length === 5, { what: 'the missed events, then the live one' })
    expect(saldos(resumed)).toEqual([2, 3, 4, 5, 6])
    const ids = resumed.events.map((e) => Number(e.id?.split('-')[1]))
    expect(ids).toEqual([2, 3, 4, 5, 6])
  })

  it('tells a client to reload when its Last-Event-ID fell out of the window, or is from another run', async () => {
    const changes = hub({ bufferSize: 3 })
    const client = readEvents(changes.open())
    publishMany(changes, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    await waitFor(() => client.events.length === 10)
    const ids = client.events.map((e) => e.id)

    const inWindow = readEvents(changes.open({ lastEventId: ids[6] }))
    await waitFor(() => inWindow.events.length === 3)
    expect(saldos(inWindow)).toEqual([8, 9, 10])

    for (const lastEventId of [ids[1], 'deadbeef-3', 'nonsense', `${ids[9]}0`]) {
      const stale = readEvents(changes.open({ lastEventId }))
      await waitFor(() => stale.events.length === 1, { what: `a reset for ${lastEventId}` })
      expect(stale.events[0]?.event).toBe('reset')
      expect(stale.data<StreamReset>('reset')[0]?.reason).toContain('reload')
      // After the reset the client is up to date: resuming from here misses nothing.
      expect(stale.lastEventId).toBe(changes.lastEventId)
      publishMany(changes, [11])
      await waitFor(() => saldos(stale).includes(11), { what: 'the live change after the reset' })
      await stale.cancel()
    }
  })

  it('numbers every change of a batch longer than the window, and keeps its last ones', async () => {
    const changes = hub({ bufferSize: 3 })
    const live = readEvents(changes.open())
    publishMany(changes, [1, 2])
    changes.publish(
      0,
      [3, 4, 5, 6, 7].map((saldo) => put('k', saldo)),
      [3, 4, 5, 6, 7],
    )
    await waitFor(() => live.events.length === 7, { what: 'every change, live' })
    expect(live.events.map((e) => Number(e.id?.split('-')[1]))).toEqual([1, 2, 3, 4, 5, 6, 7])
    const run = changes.lastEventId.split('-')[0]

    const resumed = readEvents(changes.open({ lastEventId: `${run}-4` }))
    await waitFor(() => resumed.events.length === 3, { what: 'the last three changes' })
    expect(saldos(resumed)).toEqual([5, 6, 7])
    // Change 4 went through the window without being kept: a resume after 3 cannot be served.
    const stale = readEvents(changes.open({ lastEventId: `${run}-3` }))
    await waitFor(() => stale.events.length === 1, { what: 'a reset for a change not kept' })
    expect(stale.events[0]?.event).toBe('reset')
    publishMany(changes, [8])
    const after = readEvents(changes.open({ lastEventId: `${run}-6` }))
    await waitFor(() => after.events.length === 2, { what: 'the window after one more change' })
    expect(saldos(after)).toEqual([7, 8])
  })

  it('keeps the resume window within its bytes too: the oldest changes go first', async () => {
    // One change of id 'k' and a 19-character timestamp is estimated at 64 + 2 * 20 = 104 bytes.
    const changes = hub({ bufferSize: 100, bufferBytes: 104 * 4 })
    publishMany(changes, [1, 2, 3, 4, 5, 6])
    const first = `${changes.lastEventId.split('-')[0]}-1`

    const resumed = readEvents(changes.open({ lastEventId: `${first.split('-')[0]}-2` }))
    await waitFor(() => resumed.events.length === 4, { what: 'the four changes the bytes leave' })
    expect(saldos(resumed)).toEqual([3, 4, 5, 6])
    const stale = readEvents(changes.open({ lastEventId: first }))
    await waitFor(() => stale.events.length === 1, { what: 'a reset past the bytes' })
    expect(stale.events[0]?.event).toBe('reset')
  })

  it('holds nothing of a replay beyond the window: a million changes in five batches leave the last ones', async () => {
    const changes = hub({ bufferSize: 1000, bufferBytes: 1024 * 1024 })
    // The decoded records of a batch must be free once it is published: the window keeps copies of none.
    const released = new FinalizationRegistry<number>((batch) => freed.add(batch))
    const freed = new Set<number>()
    const publishBatch = (batch: number) => {
      const offsets = Array.from({ length: 200_000 }, (_, i) => batch * 200_000 + i)
      const batchChanges = offsets.map((offset) => put(`client-${offset % 50_000}`, offset))
      released.register(batchChanges, batch)
      changes.publish(0, batchChanges, offsets)
    }
    for (let batch = 0; batch < 5; batch++) publishBatch(batch)
    await waitFor(
      () => {
        Bun.gc(true)
        return freed.size === 5
      },
      { what: 'every published batch collected', timeoutMs: 10_000 },
    )

    const metrics = Object.fromEntries(changes.metrics().map((m) => [m.name, m.samples[0]?.value]))
    expect(metrics.saldo_events_window_changes).toBe(1000)
    expect(metrics.saldo_events_window_bytes).toBeLessThanOrEqual(1024 * 1024)
    // A resume from the window's start gets exactly its last 1000 changes.
    const oldest = 1_000_000 - 1000
    const resumed = readEvents(
      changes.open({ lastEventId: `${changes.lastEventId.split('-')[0]}-${oldest}` }),
    )
    await waitFor(() => resumed.events.length === 1000, { what: 'the window, resumed' })
    expect(saldos(resumed).at(0)).toBe(oldest)
    expect(saldos(resumed).at(-1)).toBe(999_999)
  })

  it('drops a client that does not read, with an error event, while the others and publishing go on', async () => {
    const changes = hub({ clientBufferBytes: 4096 })
    let dropped = 0
    const stuck = changes.open({ onDrop: () => dropped++ })
    const fast = readEvents(changes.open())
    // A batch is taken whole by a client that has room, even one larger than the buffer.
    const big = Array.from({ length: 100 }, (_, i) => put(`big-${i}`, i))
    changes.publish(
      1,
      big,
      Array.from({ length: 100 }, (_, i) => i),
    )
    await waitFor(() => fast.events.length === 100, { what: 'the large batch at the fast client' })
    expect(dropped).toBe(0)

    // The stuck client now has more than its buffer unread: the next change drops it.
    const total = 50
    for (let i = 0; i < total; i++) {
      publishMany(changes, [1000 + i])
      await waitFor(() => fast.events.length === 101 + i, {
        what: `change ${i} at the fast client`,
        intervalMs: 1,
      })
    }
    expect(dropped).toBe(1)
    expect(changes.clients).toBe(1)
    expect(
      changes.metrics().find((m) => m.name === 'saldo_events_clients_dropped_total')?.samples[0]?.value,
    ).toBe(1)
    expect(saldos(fast).slice(100)).toEqual(Array.from({ length: total }, (_, i) => 1000 + i))

    // The stuck client finds, after what it had been sent, the error event, then the end.
    const late = readEvents(stuck)
    expect(await late.ended).toBeUndefined()
    expect(late.events.map((e) => e.event)).toEqual([...big.map(() => 'change'), 'error'])
    expect(late.data<StreamError>('error')[0]?.error).toContain('reads too slowly')
  })

  it('drops a client that reads nothing for stallTimeoutMs, long before its queue is full', async () => {
    const stallTimeoutMs = 200
    const changes = hub({ stallTimeoutMs, heartbeatMs: 20 })
    let droppedAt: number | undefined
    const openedAt = Date.now()
    // Its queue holds the connected line and heartbeats: a few hundred bytes of 64 KiB.
    const stuck = changes.open({ onDrop: () => (droppedAt ??= Date.now()) })
    const reading = readEvents(changes.open())
    publishMany(changes, [1])
    await waitFor(() => droppedAt, { what: 'the stuck client to be dropped' })
    const after = (droppedAt as number) - openedAt
    expect(after).toBeGreaterThanOrEqual(stallTimeoutMs)
    expect(after).toBeLessThan(stallTimeoutMs * 1.25 + 100)
    expect(changes.clients).toBe(1)
    expect(saldos(reading)).toEqual([1])
    const late = readEvents(stuck)
    expect(await late.ended).toBeUndefined()
    expect(late.events.map((e) => e.event)).toEqual(['change', 'error'])
    expect(late.data<StreamError>('error')[0]?.error).toMatch(/read nothing of its events for \d+ ms/)
    // The one that reads is kept however long it stays.
    await Bun.sleep(stallTimeoutMs * 2)
    expect(changes.clients).toBe(1)
    expect(reading.comments.filter((c) => c === 'heartbeat').length).toBeGreaterThan(5)
  })

  it('refuses a stream past maxClients, counts it, and takes one again once a client leaves', async () => {
    const changes = hub({ maxClients: 2 })
    const first = readEvents(changes.open())
    readEvents(changes.open())
    expect(() => changes.open()).toThrow(TooManyClients)
    expect(() => changes.open()).toThrow('2 streams are open')
    const refused = changes.metrics().find((m) => m.name === 'saldo_events_clients_refused_total')
    expect(refused?.samples[0]?.value).toBe(2)
    await first.cancel()
    expect(changes.clients).toBe(1)
    readEvents(changes.open())
    expect(changes.clients).toBe(2)
  })

  it('sends heartbeat comments while connected, and forgets a client that disconnects', async () => {
    const changes = hub({ heartbeatMs: 20 })
    const client = readEvents(changes.open())
    await waitFor(() => client.comments.filter((c) => c === 'heartbeat').length >= 2, {
      what: 'two heartbeats',
    })
    expect(changes.clients).toBe(1)
    await client.cancel()
    expect(changes.clients).toBe(0)
  })

  it('ends every stream on close, and refuses new ones', async () => {
    const changes = hub()
    const client = readEvents(changes.open())
    changes.close()
    expect(await client.ended).toBeUndefined()
    expect(changes.clients).toBe(0)
    const late = readEvents(changes.open())
    expect(await late.ended).toBeUndefined()
    expect(late.events).toEqual([])
  })
})
