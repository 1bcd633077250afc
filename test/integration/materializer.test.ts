import { describe, expect, it } from 'bun:test'
import { CompressionTypes, Partitioners } from 'kafkajs'
import { murmur2Partition } from '../../src/kafka/partitioning.ts'
import {
  balanceRecord,
  captureLog,
  createTopic,
  expectServesTopic,
  kafka,
  produce,
  type RunningService,
  readEvents,
  readiness,
  readTopicKcat,
  recreateTopic,
  startService,
  waitFor,
  waitUntilReady,
} from '../helpers.ts'

async function balanceOf(service: RunningService, id: string): Promise<{ status: number; body: unknown }> {
  const res = await service.get(`/saldo/${encodeURIComponent(id)}`)
  return { status: res.status, body: await res.json() }
}

describe('saldo-api against a real broker', () => {
  it('replays thousands of keys over 3 partitions to the newest value of each, then tails', async () => {
    const topic = await createTopic({ partitions: 3 })
    const keys = 5000
    await produce(
      topic,
      Array.from({ length: keys }, (_, i) => balanceRecord(String(i), i)),
    )
    await produce(
      topic,
      Array.from({ length: keys }, (_, i) => balanceRecord(String(i), i + 0.5, '2025-10-15T00:00:00')),
    )

    const service = startService(topic)
    // Replay needs a group join and fetches; the first answer comes long before: 503, with progress.
    const early = await service.get('/saldo/1')
    expect(early.status).toBe(503)
    expect(early.headers.get('retry-after')).toBeTruthy()
    expect(await early.json()).toMatchObject({ progress: { ready: false } })

    await waitUntilReady(service)
    const ready = await (await service.get('/ready')).json()
    expect(ready.keys).toBe(keys)
    expect(ready.partitions).toHaveLength(3)
    for (const p of ready.partitions) expect(p.position).toBeGreaterThanOrEqual(p.endOffset)
    expect(await balanceOf(service, '42')).toEqual({
      status: 200,
      body: { cliente_id: '42', saldo: 42.5, timestamp: '2025-10-15T00:00:00' },
    })
    await expectServesTopic(service, topic)

    await produce(topic, [balanceRecord('new-client', 99)])
    await waitFor(async () => (await balanceOf(service, 'new-client')).status === 200, {
      what: 'the new record',
    })
    expect((await balanceOf(service, 'new-client')).body).toMatchObject({ saldo: 99 })
  })

  it('reads records with headers and gzip-compressed batches to the values kcat reads', async () => {
    const topic = await createTopic({ partitions: 1 })
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
    await producer.connect()
    try {
      const batch = (round: number, headers?: Record<string, string | string[]>) =>
        Array.from({ length: 100 }, (_, i) => ({ ...balanceRecord(`h${i}`, round * 1000 + i), headers }))
      await producer.send({ topic, compression: CompressionTypes.GZIP, messages: batch(1) })
      await producer.send({ topic, messages: batch(2, { trace: 'abc', hop: ['a', 'b'] }) })
      await producer.send({ topic, compression: CompressionTypes.GZIP, messages: batch(3, { trace: 'z' }) })
      await producer.send({ topic, messages: batch(4).slice(0, 50) })
    } finally {
      await producer.disconnect()
    }
    const latest = new Map((await readTopicKcat(topic)).map((record) => [record.key, record.value]))
    expect(latest.size).toBe(100)

    const service = startService(topic)
    await waitUntilReady(service)
    expect((await readiness(service)).keys).toBe(100)
    for (const [id, value] of latest) {
      expect(await balanceOf(service, id ?? '')).toEqual({ status: 200, body: JSON.parse(value ?? 'null') })
    }
    expect((await balanceOf(service, 'h7')).body).toMatchObject({ saldo: 4007 })
    expect((await balanceOf(service, 'h70')).body).toMatchObject({ saldo: 3070 })

    // The patched decoder leaves headers, offsets and timestamps to be decoded when asked for: a
    // kafkajs consumer still sees them as upstream gives them.
    const consumer = kafka.consumer({ groupId: `headers-${topic}`, maxWaitTimeInMs: 100 })
    await consumer.connect()
    try {
      await consumer.subscribe({ topic, fromBeginning: true })
      const seen: Array<{ offset: string; timestamp: string; headers: unknown }> = []
      void consumer.run({
        eachMessage: async ({ message }) => {
          const { offset, timestamp, headers } = message
          seen.push({ offset, timestamp, headers })
        },
      })
      await waitFor(() => seen.length === 350, { what: 'every record through a kafkajs consumer' })
      expect(seen.map((record) => record.offset)).toEqual(Array.from({ length: 350 }, (_, i) => String(i)))
      for (const { timestamp } of seen) expect(Math.abs(Number(timestamp) - Date.now())).toBeLessThan(600_000)
      expect(seen[0]?.headers).toEqual({})
      expect(seen[150]?.headers).toEqual({
        trace: Buffer.from('abc'),
        hop: [Buffer.from('a'), Buffer.from('b')],
      })
      expect(seen[250]?.headers).toEqual({ trace: Buffer.from('z') })
    } finally {
      await consumer.disconnect()
    }
  })

  it('deletes a client on a tombstone: 404 with the contract text', async () => {
    const topic = await createTopic()
    await produce(topic, [balanceRecord('3', 300)])
    const service = startService(topic)
    await waitUntilReady(service)
    expect((await balanceOf(service, '3')).status).toBe(200)

    await produce(topic, [{ key: '3', value: null }])
    await waitFor(async () => (await balanceOf(service, '3')).status === 404, { what: 'the tombstone' })
    expect((await balanceOf(service, '3')).body).toEqual({ error: 'cliente não encontrado' })
  })

  it('skips poison records between good ones, counts them by reason, logs their offsets, and goes on', async () => {
    const topic = await createTopic({ partitions: 1 })
    const { log, lines } = captureLog('warn')
    const good = (id: string, saldo: number) => balanceRecord(id, saldo)
    await produce(topic, [good('p', 1), good('q', 1)])
    const service = startService(topic, {}, log)
    await waitUntilReady(service)

    await produce(topic, [
      { key: 'p', value: 'not json' },
      good('a', 1),
      // More of one reason than are logged one by one: the rest are counted, not logged.
      ...Array.from({ length: 30 }, () => ({ key: 'p', value: 'not json' })),
      { key: 'p', value: JSON.stringify({ cliente_id: 'p', saldo: '10', timestamp: '2025-10-14T10:30:45' }) },
      { key: 'p', value: '{"cliente_id":"p","saldo":1e999,"timestamp":"2025-10-14T10:30:45"}' },
      {
        key: 'p',
        value: JSON.stringify({ cliente_id: 'other', saldo: 5, timestamp: '2025-10-14T10:30:45' }),
      },
      { key: 'p', value: JSON.stringify({ cliente_id: 'p', saldo: 5, timestamp: 'yesterday' }) },
      { key: 'p', value: Buffer.from([0xc3, 0x28]) },
      { key: '', value: JSON.stringify({ cliente_id: 'q', saldo: 5, timestamp: '2025-10-14T10:30:45' }) },
      good('b', 2),
    ])
    await waitFor(async () => (await balanceOf(service, 'b')).status === 200, {
      what: 'the good record after the poison',
    })

    expect((await balanceOf(service, 'a')).body).toMatchObject({ saldo: 1 })
    expect((await balanceOf(service, 'p')).body).toMatchObject({ saldo: 1 })
    expect((await balanceOf(service, 'q')).body).toMatchObject({ saldo: 1 })
    expect(service.numbers.summary().rejectedByReason).toMatchObject({
      value_not_json: 31,
      value_wrong_shape: 1,
      saldo_not_finite: 1,
      key_mismatch: 1,
      timestamp_invalid: 1,
      value_not_utf8: 1,
    })
    // A compacted topic refuses null keys at the broker; an empty key gets through and means "no key".
    expect(service.numbers.summary().rejectedByReason.key_missing).toBe(1)
    const rejectedLines = lines.filter((l) => l.msg === 'rejected record; the key keeps its previous value')
    // Five of the 31 value_not_json, one of each other reason.
    expect(rejectedLines).toHaveLength(5 + 6)
    expect(rejectedLines[0]).toMatchObject({ topic, partition: 0, offset: 2, reason: 'value_not_json' })
    expect((await service.get('/health')).status).toBe(200)
  })

  it('rebuilds the same state after a restart, and two instances at once agree on every key', async () => {
    const topic = await createTopic({ partitions: 3 })
    await produce(
      topic,
      Array.from({ length: 2000 }, (_, i) => balanceRecord(`c${i % 700}`, i)),
    )
    await produce(topic, [{ key: 'c5', value: null }])

    const first = startService(topic)
    const second = startService(topic)
    await Promise.all([waitUntilReady(first), waitUntilReady(second)])
    await expectServesTopic(first, topic)
    await expectServesTopic(second, topic)
    expect((await balanceOf(second, 'c5')).status).toBe(404)

    await first.stop()
    const restarted = startService(topic)
    await waitUntilReady(restarted)
    await expectServesTopic(restarted, topic)
  })

  it('warns, in the log and in /ready, when the topic is not compacted', async () => {
    const topic = await createTopic({ compact: false })
    const service = startService(topic)
    await waitUntilReady(service)
    const ready = await (await service.get('/ready')).json()
    expect(ready.warnings[0]).toContain('cleanup.policy=delete, not compact')
  })

  it('creates the topic compacted, with TOPIC_PARTITIONS partitions, when it is missing', async () => {
    const topic = `${await createTopic()}-auto`
    const service = startService(topic, { TOPIC_PARTITIONS: '4' })
    await waitUntilReady(service)
    const ready = await (await service.get('/ready')).json()
    expect(ready.partitions).toHaveLength(4)
    expect(ready.warnings).toEqual([])
  })
})

describe('a producer that does not partition with murmur2', () => {
  // The same client on two partitions: on the murmur2 one first, then on another (kcat's default).
  async function clientOnTwoPartitions(): Promise<{ topic: string; home: number; foreign: number }> {
    const topic = await createTopic({ partitions: 3 })
    const home = murmur2Partition(Buffer.from('twice'), 3)
    const foreign = (home + 1) % 3
    await produce(topic, [
      { ...balanceRecord('twice', 1), partition: home },
      { ...balanceRecord('twice', 2), partition: foreign },
      balanceRecord('once', 3),
    ])
    return { topic, home, foreign }
  }

  it('counts the record, warns in /ready with the key and the producer fix, and applies it by default', async () => {
    const { topic, home, foreign } = await clientOnTwoPartitions()
    const service = startService(topic)
    await waitUntilReady(service)
    const stats = await (await service.get('/stats')).json()
    expect(stats).toMatchObject({ foreignPartition: 1, rejected: 0 })
    expect(await (await service.get('/metrics')).text()).toContain('saldo_records_foreign_partition_total 1')
    const [warning] = (await readiness(service)).warnings
    expect(warning).toContain(`key "twice" on partition ${foreign}, not ${home}`)
    expect(warning).toContain('-X topic.partitioner=murmur2_random')
    expect(warning).toContain('FOREIGN_PARTITION=accept: such records are applied')
    // Accepted: which value wins depends on the order partitions were read in.
    expect((await service.get('/saldo/twice')).status).toBe(200)
  })

  it('rejects it with FOREIGN_PARTITION=reject: the murmur2 partition alone decides', async () => {
    const { topic } = await clientOnTwoPartitions()
    const service = startService(topic, { FOREIGN_PARTITION: 'reject' })
    await waitUntilReady(service)
    expect(await (await service.get('/stats')).json()).toMatchObject({
      foreignPartition: 1,
      rejected: 1,
      rejectedByReason: { foreign_partition: 1 },
    })
    expect(await (await service.get('/saldo/twice')).json()).toMatchObject({ saldo: 1 })
    expect((await readiness(service)).warnings[0]).toContain('such records are rejected')
  })
})

describe('a topic recreated while saldo runs', () => {
  it('stops serving the old history and replays the new one, old keys gone', async () => {
    const topic = await createTopic({ partitions: 1 })
    await produce(
      topic,
      Array.from({ length: 20 }, (_, i) => balanceRecord(`old-${i}`, i)),
    )
    const service = startService(topic)
    await waitUntilReady(service)
    expect(service.store.size).toBe(20)
    const stream = readEvents((await service.get('/events')).body as ReadableStream<Uint8Array>)
    await produce(topic, [balanceRecord('old-1', 100)])
    await waitFor(() => stream.events.length === 1, { what: 'the change of the old history' })
    const oldId = stream.lastEventId as string

    await recreateTopic(topic, { partitions: 1 })
    await produce(topic, [balanceRecord('new-1', 1), balanceRecord('new-2', 2)])
    await waitFor(async () => service.store.size === 2 && (await service.get('/ready')).status === 200, {
      timeoutMs: 90_000,
      what: 'the service to replay the recreated topic',
    })
    expect((await service.get('/saldo/old-3')).status).toBe(404)
    expect(await (await service.get('/saldo/new-2')).json()).toMatchObject({ saldo: 2 })
    expect(await (await service.get('/stats')).json()).toMatchObject({ rebuilds: 1, keys: 2 })

    // /events: a reset, then the new history only; a resume from the old history is refused.
    await waitFor(() => stream.events.length >= 4, { what: 'a reset and the two new changes' })
    expect(stream.events.map((e) => e.event)).toEqual(['change', 'reset', 'change', 'change'])
    expect(stream.data<{ cliente_id: string }>('change').map((c) => c.cliente_id)).toEqual([
      'old-1',
      'new-1',
      'new-2',
    ])
    const resumed = readEvents(
      (await service.get('/events', { headers: { 'last-event-id': oldId } }))
        .body as ReadableStream<Uint8Array>,
    )
    await waitFor(() => resumed.events.length === 1, { what: 'a reset for the old Last-Event-ID' })
    expect(resumed.events[0]?.event).toBe('reset')
  })

  for (const [before, after] of [
    [3, 1],
    [1, 3],
  ] as const) {
    it(`rebuilds when the topic comes back with ${after} partitions instead of ${before}`, async () => {
      const topic = await createTopic({ partitions: before })
      await produce(
        topic,
        Array.from({ length: 30 }, (_, i) => balanceRecord(`old-${i}`, i)),
      )
      const service = startService(topic, { TOPIC_CHECK_INTERVAL_MS: '300' })
      await waitUntilReady(service)

      // More new records per partition than the old positions: nothing but the count gives it away.
      await recreateTopic(topic, { partitions: after })
      await produce(
        topic,
        Array.from({ length: 120 }, (_, i) => balanceRecord(`new-${i}`, i)),
      )
      await waitFor(
        async () => {
          const ready = await readiness(service)
          return ready.ready && ready.partitions.length === after && ready.keys === 120
        },
        { timeoutMs: 90_000, what: `the service to replay the topic with ${after} partitions` },
      )
      expect((await service.get('/saldo/old-3')).status).toBe(404)
      await expectServesTopic(service, topic)
      expect((await readiness(service)).warnings).toEqual([])
      expect((await (await service.get('/stats')).json()).partitions).toHaveLength(after)
    })
  }
})
