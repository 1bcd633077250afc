import { describe, expect, it } from 'bun:test'
import { connect } from 'node:net'
import type { BalanceChanged, BalanceDeleted } from '../../src/events/models.ts'
import {
  balanceRecord,
  captureLog,
  createTopic,
  metricValues,
  onCleanup,
  produce,
  promtoolCheck,
  type RunningService,
  readEvents,
  startService,
  waitFor,
  waitUntilReady,
} from '../helpers.ts'

const metricsOf = async (service: RunningService) => (await service.get('/metrics')).text()

/** The /metrics text of `service` once `series` has `value`. */
const metricsWhen = (service: RunningService, series: string, value: number) =>
  waitFor(
    async () => {
      const text = await metricsOf(service)
      return metricValues(text)[series] === value ? text : undefined
    },
    { what: `${series} to be ${value}` },
  )

/** Follows GET /events of `service` like a browser would, optionally resuming after an event id. */
async function follow(service: RunningService, path = '/events', lastEventId?: string) {
  const res = await fetch(`${service.url}${path}`, {
    headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
  })
  expect(res.status).toBe(200)
  return readEvents(res.body as ReadableStream<Uint8Array>)
}

describe('operability against a real broker', () => {
  it('reports on /metrics, in a text promtool accepts, what it applied, rejected and deleted, and each lag', async () => {
    const topic = await createTopic({ partitions: 2 })
    await produce(topic, [balanceRecord('a', 1), balanceRecord('b', 2)])
    const service = startService(topic)
    await waitUntilReady(service)

    const before = await metricsOf(service)
    expect(metricValues(before)).toMatchObject({
      saldo_records_applied_total: 2,
      saldo_keys: 2,
      saldo_ready: 1,
    })
    expect(await promtoolCheck(before)).toEqual({ exitCode: 0, output: '' })

    await produce(topic, [balanceRecord('c', 3), { key: 'a', value: null }, { key: 'b', value: 'not json' }])
    const after = await waitFor(
      async () => {
        const values = metricValues(await metricsOf(service))
        const moved =
          values.saldo_records_applied_total === 3 &&
          values.saldo_tombstones_total === 1 &&
          values['saldo_records_rejected_total{reason="value_not_json"}'] === 1
        return moved ? values : undefined
      },
      { what: 'the new records in /metrics' },
    )
    expect(after.saldo_keys).toBe(2)
    let positions = 0
    for (const partition of ['0', '1']) {
      const position = after[`saldo_partition_position{partition="${partition}"}`] ?? -1
      expect(after[`saldo_partition_end_offset{partition="${partition}"}`]).toBe(position)
      expect(after[`saldo_partition_lag{partition="${partition}"}`]).toBe(0)
      positions += position
    }
    expect(positions).toBe(5)

    expect((await service.get('/saldo/c')).status).toBe(200)
    const served = await metricsWhen(
      service,
      'saldo_http_requests_total{method="GET",route="/saldo/:cliente_id",status="200"}',
      1,
    )
    const scrapes =
      metricValues(served)['saldo_http_request_duration_seconds_count{method="GET",route="/metrics"}']
    expect(scrapes).toBeGreaterThan(0)
    expect(await promtoolCheck(served)).toEqual({ exitCode: 0, output: '' })
  })

  it('logs replay progress with positions, records/s and ETA while replaying, and no more once ready', async () => {
    const topic = await createTopic({ partitions: 2 })
    // Many small record batches and tiny fetches: a replay of many round trips, like a long one.
    for (let send = 0; send < 100; send++) {
      await produce(
        topic,
        Array.from({ length: 100 }, (_, i) => balanceRecord(`p${send * 100 + i}`, i)),
      )
    }
    const { log, lines } = captureLog('info')
    const service = startService(
      topic,
      { PROGRESS_LOG_INTERVAL_MS: '20', FETCH_MAX_BYTES_PER_PARTITION: '1024' },
      log,
    )
    await waitUntilReady(service)

    const complete = lines.findIndex((l) => l.msg === 'replay complete; tailing')
    expect(lines[complete]).toMatchObject({ keys: 10_000 })
    expect(lines[complete]?.recordsPerSecond).toBeGreaterThan(0)
    const progress = lines.slice(0, complete).filter((l) => l.msg === 'replay progress')
    expect(progress.length).toBeGreaterThanOrEqual(2)
    for (const line of progress) {
      expect(line.partitions).toMatch(/^0:\d+\/\d+ 1:\d+\/\d+$/)
      expect(line.remaining).toBeGreaterThan(0)
      expect(line).toHaveProperty('recordsPerSecond')
      expect(line).toHaveProperty('etaSeconds')
    }
    // Round trips take long enough that some line shows the replay under way, with a rate and an ETA.
    const underWay = progress.find(
      (l) => (l.remaining as number) < 10_000 && (l.recordsPerSecond as number) > 0,
    )
    expect(underWay?.etaSeconds).toBeGreaterThan(0)
    expect(lines.slice(complete).some((l) => l.msg === 'replay progress')).toBe(false)
  })

  it('streams a change produced to Kafka to /events clients shortly after, and a tombstone as a delete', async () => {
    const topic = await createTopic()
    const service = startService(topic)
    await waitUntilReady(service)
    const everything = await follow(service)
    const onlyX = await follow(service, '/events?ids=x')

    await produce(topic, [balanceRecord('x', 42), balanceRecord('y', 7)])
    await waitFor(() => everything.events.length === 2, { what: 'the two changes on /events' })
    const x = everything.data<BalanceChanged>('change').find((c) => c.cliente_id === 'x')
    expect(x).toMatchObject({ saldo: 42, timestamp: '2025-10-14T10:30:45' })
    expect(x?.position).toMatch(/^\d+:1$/)

    await produce(topic, [{ key: 'x', value: null }])
    await waitFor(() => everything.events.length === 3, { what: 'the delete on /events' })
    expect(everything.data<BalanceDeleted>('delete')).toEqual([
      { cliente_id: 'x', position: `${x?.position.split(':')[0]}:2` },
    ])
    await waitFor(() => onlyX.events.length === 2, { what: "x's change and delete on the filtered stream" })
    expect(onlyX.events.map((e) => e.event)).toEqual(['change', 'delete'])

    // Stopping the service ends the streams instead of waiting for them.
    await service.stop()
    expect(await everything.ended).toBeUndefined()
  })

  it('resumes with Last-Event-ID after a disconnect without missing or repeating a change', async () => {
    const topic = await createTopic({ partitions: 3 })
    const service = startService(topic)
    await waitUntilReady(service)
    const first = await follow(service)
    await produce(topic, [balanceRecord('r0', 0)])
    await waitFor(() => first.events.length === 1, { what: 'the first change' })
    await first.cancel()

    const missed = Array.from({ length: 50 }, (_, i) => balanceRecord(`r${i + 1}`, i + 1))
    await produce(topic, missed)
    await waitFor(() => service.numbers.summary().applied === 51, {
      what: 'the records produced while disconnected',
    })
    const resumed = await follow(service, '/events', first.lastEventId)
    await produce(topic, [balanceRecord('r51', 51)])

    await waitFor(() => resumed.events.length === 51, { what: 'the 50 missed changes and the live one' })
    const received = resumed.data<BalanceChanged>('change')
    expect(received.map((c) => c.saldo).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 51 }, (_, i) => i + 1),
    )
    expect(received.at(-1)?.saldo).toBe(51)
    const ids = resumed.events.map((e) => Number(e.id?.split('-')[1]))
    expect(ids).toEqual(Array.from({ length: 51 }, (_, i) => i + 2))
  })

  it('drops an /events client that stops reading, while other clients and the apply loop go on', async () => {
    const topic = await createTopic({ partitions: 3 })
    const service = startService(topic, { EVENTS_CLIENT_BUFFER_BYTES: '65536' })
    await waitUntilReady(service)
    // A client that sends its request and never reads: the kernel's buffers fill, then its queue.
    const stuck = connect(Number(new URL(service.url).port), '127.0.0.1')
    onCleanup(() => stuck.destroy())
    let received = ''
    stuck.on('data', (chunk) => {
      received += chunk.toString()
    })
    stuck.pause()
    stuck.write('GET /events HTTP/1.1\r\nHost: saldo\r\n\r\n')
    const watcher = await follow(service, '/events?ids=k0,k59999')
    await waitFor(() => service.events.clients === 2, { what: 'both clients connected' })

    // Enough changes to fill loopback's socket buffers (about 4 MB) and then the client's queue.
    const total = 60_000
    await produce(
      topic,
      Array.from({ length: total }, (_, i) => balanceRecord(`k${i}`, i)),
    )
    await waitFor(() => watcher.events.length === 2, { what: 'the watched changes' })
    await waitFor(() => service.store.size === total, { what: 'every record applied' })
    const metrics = await metricsWhen(service, 'saldo_events_clients_dropped_total', 1)
    expect(metricValues(metrics).saldo_events_clients).toBe(1)

    stuck.resume()
    await waitFor(() => received.includes('event: error'), {
      what: 'the error event at the end of the stuck stream',
    })
    expect(received).toContain('reads too slowly')
    expect(received.indexOf('event: error')).toBeGreaterThan(1_000_000)
  })
})
