import { describe, expect, it } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { murmur2Partition } from '../../src/kafka/partitioning.ts'
import {
  balanceRecord,
  captureLog,
  createTopic,
  holdPartitions,
  produce,
  readiness,
  SASL,
  startService,
  testConfig,
  waitFor,
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

  it('decides a DELETE in log order: through an instance that has not applied the PUT yet, 200, never a stale 404', async () => {
    const topic = await createTopic({ partitions: 3 })
    const a = startService(topic, { SALDO_API_TOKEN: TOKEN })
    const settings = {
      SALDO_API_TOKEN: TOKEN,
      // An ownership group of its own: B writes every partition itself instead of forwarding to A,
      // so that it is B's view that decides the DELETE.
      GROUP: 'saldo-test-b',
      WRITE_WAIT_MS: '30000',
      MIN_POSITION_WAIT_MS: '300',
      INSTANCE_ID: `b-${randomUUID().slice(0, 8)}`,
    }
    const b = startService(topic, settings)
    await Promise.all([waitUntilReady(a), waitUntilReady(b)])
    // B stops applying some partitions while it still says ready: it falls behind A there. Its
    // materializer's first consumer group is GROUP-INSTANCE_ID-1.
    const holder = await holdPartitions(
      topic,
      `${testConfig(topic, settings).GROUP}-${settings.INSTANCE_ID}-1`,
    )
    await waitFor(async () => (await readiness(b)).warnings.some((w) => w.includes('is shared')), {
      what: 'B to give partitions to the holder',
    })
    const id = [...Array(100).keys()]
      .map((i) => `late-${i}`)
      .find((k) => holder.held().includes(murmur2Partition(Buffer.from(k), 3)))
    const put = await a.get(`/saldo/${id}`, { method: 'PUT', headers: json, body: '{"saldo":7}' })
    const { position } = await put.json()

    // B cannot reach the position A gave: 503, and no tombstone is written.
    const early = await b.get(`/saldo/${id}?min_position=${position}`, { method: 'DELETE', headers: auth })
    expect(early.status).toBe(503)
    expect((await a.get(`/saldo/${id}`, { headers: auth })).status).toBe(200)

    // Without a position, B writes the tombstone; it comes after the PUT in the log: 200.
    const deleting = b.get(`/saldo/${id}`, { method: 'DELETE', headers: auth })
    await holder.release()
    const deleted = await deleting
    expect(deleted.status).toBe(200)
    const body = await deleted.json()
    expect(body.deleted).toBe(id)
    expect((await a.get(`/saldo/${id}?min_position=${body.position}`, { headers: auth })).status).toBe(404)
    // Nothing left before the next tombstone: 404, and it was written all the same.
    const again = await b.get(`/saldo/${id}`, { method: 'DELETE', headers: auth })
    expect(again.status).toBe(404)
    expect(await again.json()).toEqual({ error: 'cliente não encontrado' })
    expect(again.headers.get('x-saldo-position')).not.toBe(deleted.headers.get('x-saldo-position'))
  })

  it('writes conditionally: ETag on GET, 412 with the current balance on a stale If-Match, one winner of two racing writers', async () => {
    const topic = await createTopic({ partitions: 3 })
    const service = startService(topic, { SALDO_API_TOKEN: TOKEN })
    await waitUntilReady(service)
    const put = (id: string, saldo: number, condition: Record<string, string>) =>
      service.get(`/saldo/${id}`, {
        method: 'PUT',
        headers: { ...json, ...condition },
        body: JSON.stringify({ saldo, timestamp: '2025-10-14T10:30:45' }),
      })

    // If-None-Match: * creates only a client that has no balance yet.
    const created = await put('7', 100, { 'if-none-match': '*' })
    expect(created.status).toBe(200)
    const etag = created.headers.get('etag')
    expect(etag).toMatch(/^"\d+-\d+"$/)
    const again = await put('7', 1, { 'if-none-match': '*' })
    expect(again.status).toBe(412)
    expect(await again.json()).toMatchObject({ saldo: { cliente_id: '7', saldo: 100 } })

    const read = await service.get('/saldo/7', { headers: auth })
    expect(read.headers.get('etag')).toBe(etag)

    // Two writers that both read that version: exactly one wins, the other sees the winner's balance.
    const [first, second] = await Promise.all([
      put('7', 150, { 'if-match': etag as string }),
      put('7', 50, { 'if-match': etag as string }),
    ])
    const statuses = [first.status, second.status].sort()
    expect(statuses).toEqual([200, 412])
    const winner = first.status === 200 ? first : second
    const loser = first.status === 200 ? second : first
    const won = await winner.json()
    const lost = await loser.json()
    expect(lost.error).toContain('If-Match failed')
    expect(lost.saldo).toEqual(won.balance)
    expect(loser.headers.get('etag')).toBe(winner.headers.get('etag'))
    expect(await (await service.get('/saldo/7', { headers: auth })).json()).toEqual(won.balance)

    // A DELETE with the stale tag is refused too; with the current one it deletes.
    const staleDelete = await service.get('/saldo/7', {
      method: 'DELETE',
      headers: { ...auth, 'if-match': etag as string },
    })
    expect(staleDelete.status).toBe(412)
    const current = winner.headers.get('etag') as string
    const deleted = await service.get('/saldo/7', {
      method: 'DELETE',
      headers: { ...auth, 'if-match': current },
    })
    expect(deleted.status).toBe(200)
    // No balance: If-Match fails (412 with saldo null), a malformed one is a 400.
    const absent = await put('7', 1, { 'if-match': current })
    expect(absent.status).toBe(412)
    expect((await absent.json()).saldo).toBeNull()
    expect((await put('7', 1, { 'if-match': 'no-quotes' })).status).toBe(400)
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
    // Not one ownership group: locked would forward writes for the partitions open owns, and open
    // (no token) refuses every write.
    const open = startService(topic, { GROUP: 'saldo-test-open' })
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
