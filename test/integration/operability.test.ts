import { describe, expect, it } from 'bun:test'
import {
  balanceRecord,
  captureLog,
  createTopic,
  metricValues,
  produce,
  promtoolCheck,
  type RunningService,
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
})
