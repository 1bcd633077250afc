import { describe, expect, it } from 'bun:test'
import { Kafka, logLevel, Partitioners } from 'kafkajs'
import { balanceRecord, onCleanup, privateBroker, startService, waitFor, waitUntilReady } from '../helpers.ts'

describe('a broker outage', () => {
  it('keeps serving the last state, reports the outage, and resumes by itself with nothing lost', async () => {
    const broker = privateBroker(19292)
    expect((await broker.sh('start')).out).toContain('broker ready')
    const client = new Kafka({
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 30 },
    })
    const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true })
    await producer.connect()
    onCleanup(() => producer.disconnect())
    const topic = 'contas-outage'

    const service = startService(topic, { BOOTSTRAP_SERVERS: broker.bootstrap, FETCH_MAX_WAIT_MS: '100' })
    await waitUntilReady(service)
    await producer.send({ topic, acks: -1, messages: [balanceRecord('1', 10), balanceRecord('2', 20)] })
    await waitFor(async () => (await service.get('/saldo/2')).status === 200, { what: 'the first records' })

    expect((await broker.sh('stop')).code).toBe(0)
    const during = await waitFor(
      async () => {
        const ready = await (await service.get('/ready')).json()
        return ready.kafka.connected === false ? ready : undefined
      },
      { what: '/ready to report the outage' },
    )
    expect(during.ready).toBe(true)
    const read = await service.get('/saldo/1')
    expect(read.status).toBe(200)
    expect(await read.json()).toMatchObject({ saldo: 10 })

    expect((await broker.sh('start')).out).toContain('broker ready')
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 100 }, (_, i) => balanceRecord(`after-${i}`, i)),
    })
    await waitFor(async () => service.store.size === 102, {
      timeoutMs: 90_000,
      what: 'every record sent after the outage',
    })
    const ready = await (await service.get('/ready')).json()
    expect(ready.kafka.connected).toBe(true)
    expect(await (await service.get('/saldo/after-99')).json()).toMatchObject({ saldo: 99 })
  })
})
