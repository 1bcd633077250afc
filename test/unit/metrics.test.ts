import { describe, expect, it } from 'bun:test'
import { ApplyNumbers } from '../../src/kafka/apply-numbers.ts'
import { applyMetrics } from '../../src/kafka/metrics.ts'
import { Counter, Histogram } from '../../src/metrics/instruments.ts'
import { gauge, renderMetrics } from '../../src/metrics/prometheus.ts'
import { MemoryStore } from '../../src/store/memory-store.ts'
import { metricValues, promtoolCheck } from '../helpers.ts'
import { setup } from './app-fixture.ts'

describe('Prometheus text exposition', () => {
  it('renders counters, gauges and histograms that promtool parses and lints clean', async () => {
    const requests = new Counter('t_requests_total', 'Requests.', ['route'])
    requests.inc({ route: 'a "quoted" \\ path\nand a newline' })
    requests.inc({ route: '/x' }, 2)
    const latency = new Histogram('t_duration_seconds', 'Latency.', ['route'], [0.1, 1])
    for (const seconds of [0.05, 0.5, 5]) latency.observe({ route: '/x' }, seconds)
    const text = renderMetrics([
      requests.family(),
      latency.family(),
      gauge('t_up', 'Help with a \\ backslash\nand a newline.', 1),
      gauge('t_ratio', 'Not a number yet.', Number.NaN),
    ])

    expect(text).toContain('t_requests_total{route="a \\"quoted\\" \\\\ path\\nand a newline"} 1\n')
    expect(text).toContain('# HELP t_up Help with a \\\\ backslash\\nand a newline.\n')
    expect(metricValues(text)).toMatchObject({
      't_requests_total{route="/x"}': 2,
      't_duration_seconds_bucket{route="/x",le="0.1"}': 1,
      't_duration_seconds_bucket{route="/x",le="1"}': 2,
      't_duration_seconds_bucket{route="/x",le="+Inf"}': 3,
      't_duration_seconds_sum{route="/x"}': 5.55,
      't_duration_seconds_count{route="/x"}': 3,
    })
    expect(text).toContain('t_ratio NaN\n')
    expect(await promtoolCheck(text)).toEqual({ exitCode: 0, output: '' })
  })

  it('is checked by a promtool that does fail on a broken text', async () => {
    expect((await promtoolCheck('# TYPE x counter\nx{le="1" 1\n')).exitCode).not.toBe(0)
    expect((await promtoolCheck('# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n')).exitCode).toBe(0)
  })
})

const config = { FETCH_MAX_WAIT_MS: 100, FOREIGN_PARTITION: 'accept' as const }

describe("the apply path's metrics", () => {
  it('reports position, latest end offset and lag per partition, and rejects by reason', () => {
    const store = new MemoryStore()
    const balance = { cliente_id: 'a', saldo: 1, timestamp: '2025-10-14T10:30:45' }
    store.apply(0, [{ kind: 'put', balance }], 5, [4])
    const numbers = new ApplyNumbers({ store, config })
    numbers.progress.begin(
      new Map([
        [0, 5],
        [1, 0],
      ]),
      new Map([
        [0, 5],
        [1, 0],
      ]),
    )
    const { watermarks, counts } = numbers
    watermarks.observe(1, 0)
    watermarks.observe(0, 5)
    // Tailing: two records were written after the replay and not applied yet.
    watermarks.observe(0, 7)
    counts.applied = 4
    counts.tombstones = 1
    counts.rejected.value_not_json = 2
    numbers.rebuilt()
    const text = renderMetrics(applyMetrics(numbers)())

    expect(metricValues(text)).toMatchObject({
      'saldo_partition_position{partition="0"}': 5,
      'saldo_partition_end_offset{partition="0"}': 7,
      'saldo_partition_lag{partition="0"}': 2,
      'saldo_partition_lag{partition="1"}': 0,
      saldo_records_applied_total: 4,
      saldo_tombstones_total: 1,
      'saldo_records_rejected_total{reason="value_not_json"}': 2,
      'saldo_records_rejected_total{reason="key_missing"}': 0,
      saldo_state_rebuilds_total: 1,
      saldo_keys: 1,
      saldo_ready: 1,
      saldo_kafka_connected: 0,
    })
    expect(text.indexOf('partition="0"')).toBeLessThan(text.indexOf('partition="1"'))
  })

  it('reports the replay so far while replaying, then its final duration and rate', () => {
    const store = {
      size: 0,
      position: () => 0,
      loadedFromSnapshot: 0,
      writeError: undefined as string | undefined,
    }
    const numbers = new ApplyNumbers({ store, config })
    const { progress } = numbers
    const source = () => metricValues(renderMetrics(applyMetrics(numbers)()))
    expect(source().saldo_replay_duration_seconds).toBe(0)
    progress.begin(new Map([[0, 1_000_000]]), new Map([[0, 0]]), Date.now() - 2_000)
    const replaying = source()
    expect(replaying.saldo_ready).toBe(0)
    expect(replaying.saldo_replay_duration_seconds).toBeGreaterThanOrEqual(2)
    progress.advance(0, 1_000_000)
    const done = source()
    expect(done.saldo_ready).toBe(1)
    store.writeError = 'cannot write the local state: database or disk is full'
    expect(source().saldo_ready).toBe(0)
    // /ready says the same, from the same rule.
    expect(numbers.readiness()).toMatchObject({ ready: false, storeError: store.writeError })
    store.writeError = undefined
    expect(numbers.readiness().ready).toBe(true)
    const seconds = done.saldo_replay_duration_seconds ?? 0
    expect(seconds).toBeGreaterThanOrEqual(2)
    expect(done.saldo_replay_records_per_second).toBe(Math.round(1_000_000 / seconds))
  })
})

describe('GET /metrics', () => {
  it('answers the text format, clean for promtool, with every family the service reports', async () => {
    const { get } = setup()
    const res = await get('/metrics')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    const text = await res.text()
    for (const name of [
      'saldo_records_applied_total',
      'saldo_tombstones_total',
      'saldo_records_rejected_total',
      'saldo_keys',
      'saldo_partition_position',
      'saldo_partition_end_offset',
      'saldo_partition_lag',
      'saldo_ready',
      'saldo_replay_duration_seconds',
      'saldo_replay_records_per_second',
      'saldo_events_clients',
      'process_resident_memory_bytes',
      'saldo_heap_used_bytes',
    ]) {
      expect(text).toContain(`# TYPE ${name} `)
    }
    expect(metricValues(text).process_resident_memory_bytes).toBeGreaterThan(1_000_000)
    expect(await promtoolCheck(text)).toEqual({ exitCode: 0, output: '' })
  })

  it('counts requests by route pattern and status, never by raw path, with a latency histogram', async () => {
    const { get } = setup()
    for (const path of ['/saldo/1', '/saldo/1', '/saldo/unknown-42', '/saldo/%zz', '/no/such/route'])
      await get(path)
    const requests = (text: string, route: string, status: number) =>
      metricValues(text)[`saldo_http_requests_total{method="GET",route="${route}",status="${status}"}`]
    // Counted as each answer is made: nothing to wait for.
    const text = await (await get('/metrics')).text()
    expect(requests(text, 'unmatched', 404)).toBe(1)
    expect(requests(text, '/saldo/:cliente_id', 200)).toBe(2)
    expect(requests(text, '/saldo/:cliente_id', 404)).toBe(1)
    expect(requests(text, '/saldo/:cliente_id', 400)).toBe(1)
    expect(text).not.toContain('unknown-42')
    expect(text).not.toContain('/no/such')
    const count = 'saldo_http_request_duration_seconds_count{method="GET",route="/saldo/:cliente_id"}'
    expect(metricValues(text)[count]).toBe(4)
    expect(await promtoolCheck(text)).toEqual({ exitCode: 0, output: '' })
  })
})

describe('request metrics', () => {
  it('counts each answer as it is made, and a min_position wait with the status it ends with', async () => {
    const { get } = setup()
    await get('/saldo/1')
    // MIN_POSITION_WAIT_MS is 50 in the fixture: a 503 after the wait.
    expect((await get('/saldo/1?min_position=0:99')).status).toBe(503)
    const values = metricValues(await (await get('/metrics')).text())
    const series = (status: number) =>
      values[`saldo_http_requests_total{method="GET",route="/saldo/:cliente_id",status="${status}"}`]
    expect([series(200), series(503)]).toEqual([1, 1])
    expect(values.saldo_http_requests_in_flight).toBe(1)
  })
})

describe('GET /stats', () => {
  it('answers the numbers of /metrics as JSON: counters, keys, and lag per partition and in all', async () => {
    const { get, stats, watermarks } = setup()
    stats.applied = 7
    stats.tombstones = 1
    stats.rejected.saldo_not_finite = 3
    watermarks.observe(0, 5)
    watermarks.observe(1, 4)
    const res = await get('/stats')
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body).toMatchObject({
      keys: 2,
      applied: 7,
      tombstones: 1,
      rejected: 3,
      lag: 7,
      partitions: [
        { partition: 0, position: 2, endOffset: 5, lag: 3 },
        { partition: 1, position: 0, endOffset: 4, lag: 4 },
      ],
    })
    expect(body.rejectedByReason).toMatchObject({ saldo_not_finite: 3, value_not_json: 0 })
    const metrics = metricValues(await (await get('/metrics')).text())
    expect(metrics.saldo_records_applied_total).toBe(body.applied)
    expect(metrics.saldo_state_rebuilds_total).toBe(body.rebuilds)
    expect(metrics['saldo_partition_lag{partition="1"}']).toBe(4)
  })
})
