import { describe, expect, it } from 'bun:test'
import {
  balanceRecord,
  captureLog,
  createTopic,
  produce,
  SASL,
  startService,
  waitForKafkaError,
  waitUntilReady,
} from '../helpers.ts'

const TOKEN = 'integration-token-0123456789'
const auth = { authorization: `Bearer ${TOKEN}` }
const json = { ...auth, 'content-type': 'application/json' }

describe('writes through Kafka', () => {
  it('answers a PUT once applied here; another instance reads it with min_position', async () => {
    const topic = await createTopic({ partitions: 3 })
    const a = startService(topic, { SALDO_API_TOKEN: TOKEN })
    const b = startService(topic, { SALDO_API_TOKEN: TOKEN })
    await Promise.all([waitUntilReady(a), waitUntilReady(b)])

    const put = await a.get('/saldo/42', {
      method: 'PUT',
      headers: json,
      body: '{"saldo":12.5,"timestamp":"2025-10-14T10:30:45"}',
    })
    expect(put.status).toBe(200)
    const written = await put.json()
    expect(written.balance).toEqual({ cliente_id: '42', saldo: 12.5, timestamp: '2025-10-14T10:30:45' })
    expect(written.position).toMatch(/^\d+:\d+$/)
    // Read-your-writes on the same instance, with no position given.
    const own = await a.get('/saldo/42', { headers: auth })
    expect(await own.json()).toEqual(written.balance)

    const other = await b.get(`/saldo/42?min_position=${written.position}`, { headers: auth })
    expect(other.status).toBe(200)
    expect(await other.json()).toEqual(written.balance)
    const [partition, offset] = written.position.split(':').map(Number)
    expect(other.headers.get('x-saldo-position')).toContain(`${partition}:`)
    const seen = Number(
      new RegExp(`(?:^|,)${partition}:(\\d+)`).exec(other.headers.get('x-saldo-position') ?? '')?.[1],
    )
    expect(seen).toBeGreaterThanOrEqual(offset)

    const del = await b.get('/saldo/42', { method: 'DELETE', headers: auth })
    expect(del.status).toBe(200)
    const deleted = await del.json()
    expect(deleted.deleted).toBe('42')
    const gone = await a.get(`/saldo/42?min_position=${deleted.position}`, { headers: auth })
    expect(gone.status).toBe(404)
    expect(await gone.json()).toEqual({ error: 'cliente não encontrado' })
    expect((await a.get('/saldo/42', { method: 'DELETE', headers: auth })).status).toBe(404)
  })

  it('answers 504 with the position when the write is not applied within WRITE_WAIT_MS', async () => {
    const topic = await createTopic({ partitions: 1 })
    const service = startService(topic, {
      SALDO_API_TOKEN: TOKEN,
      WRITE_WAIT_MS: '300',
      MIN_POSITION_WAIT_MS: '200',
    })
    await waitUntilReady(service)
    // With the materializer stopped, the write reaches Kafka but never this instance's store.
    await service.materializer.stop()
    const put = await service.get('/saldo/7', { method: 'PUT', headers: json, body: '{"saldo":1}' })
    expect(put.status).toBe(504)
    const body = await put.json()
    expect(body).toMatchObject({ position: '0:1', error: expect.stringContaining('min_position=0:1') })
    const read = await service.get(`/saldo/7?min_position=${body.position}`, { headers: auth })
    expect(read.status).toBe(503)
    expect(read.headers.get('x-saldo-position')).toBe('0:0')
  })

  it('applies the auth matrix on a running service: token unset, missing, wrong, right', async () => {
    const topic = await createTopic()
    await produce(topic, [balanceRecord('1', 1)])
    const open = startService(topic)
    const locked = startService(topic, { SALDO_API_TOKEN: TOKEN })
    await Promise.all([waitUntilReady(open), waitUntilReady(locked)])
    const body = '{"saldo":2}'
    expect((await open.get('/saldo/1')).status).toBe(200)
    expect((await open.get('/saldo/1', { method: 'PUT', headers: json, body })).status).toBe(403)
    expect((await locked.get('/saldo/1')).status).toBe(401)
    expect(
      (await locked.get('/saldo/1', { headers: { authorization: 'Bearer not-the-token-at-all' } })).status,
    ).toBe(401)
    expect((await locked.get('/saldo/1', { headers: auth })).status).toBe(200)
    const wrongPut = { ...json, authorization: 'Bearer not-the-token-at-all' }
    expect((await locked.get('/saldo/1', { method: 'PUT', headers: wrongPut, body })).status).toBe(401)
    expect((await locked.get('/saldo/1', { method: 'PUT', headers: json, body })).status).toBe(200)
    const huge = await locked.get('/saldo/1', {
      method: 'PUT',
      headers: json,
      body: `{"saldo":1,"x":"${'x'.repeat(300_000)}"}`,
    })
    // Bun refuses it (MAX_BODY_BYTES, 256 KiB by default) before saldo reads a byte: no JSON body.
    expect(huge.status).toBe(413)
    expect((await locked.get('/health')).status).toBe(200)
    expect((await locked.get('/ready')).status).toBe(200)
  })
})

describe('Kafka connection security', () => {
  for (const mechanism of ['scram-sha-256', 'scram-sha-512', 'plain']) {
    it(`connects over SASL ${mechanism} with the right credentials`, async () => {
      const topic = await createTopic()
      await produce(topic, [balanceRecord('1', 10)])
      const service = startService(topic, {
        BOOTSTRAP_SERVERS: SASL.bootstrap,
        KAFKA_SASL_MECHANISM: mechanism,
        KAFKA_SASL_USERNAME: SASL.username,
        KAFKA_SASL_PASSWORD: SASL.password,
        SALDO_API_TOKEN: TOKEN,
      })
      await waitUntilReady(service)
      expect(await (await service.get('/saldo/1', { headers: auth })).json()).toMatchObject({ saldo: 10 })
      const put = await service.get('/saldo/2', { method: 'PUT', headers: json, body: '{"saldo":20}' })
      expect(put.status).toBe(200)
    })
  }

  it('fails with a clear error, in /ready and in the log, on wrong SCRAM credentials, never logging the secret', async () => {
    const topic = await createTopic()
    const { log, lines } = captureLog('warn')
    const secret = 'definitely-wrong-password'
    const service = startService(
      topic,
      {
        BOOTSTRAP_SERVERS: SASL.bootstrap,
        KAFKA_SASL_MECHANISM: 'scram-sha-256',
        KAFKA_SASL_USERNAME: SASL.username,
        KAFKA_SASL_PASSWORD: secret,
      },
      log,
    )
    const ready = await waitForKafkaError(service)
    expect(ready.ready).toBe(false)
    expect(ready.kafka.lastError).toMatch(/SASL SCRAM SHA256 authentication failed/i)
    expect(lines.some((l) => /authentication failed/i.test(JSON.stringify(l)))).toBe(true)
    expect(lines.some((l) => JSON.stringify(l).includes(secret))).toBe(false)
    expect((await service.get('/saldo/1')).status).toBe(503)
  })
})
