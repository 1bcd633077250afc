import { describe, expect, it } from 'bun:test'
import { partitionEnds, topicConfigs } from '../../src/kafka/topic.ts'
import type { Movement } from '../../src/movements/movement.ts'
import {
  createTopic,
  kafka,
  movementsTopicOf,
  produce,
  readTopic,
  startService,
  waitFor,
  waitUntilReady,
} from '../helpers.ts'

const TOKEN = 'integration-token-0123456789'

const movement = (id: string, valor: number, n: number): Movement => ({
  cliente_id: id,
  valor,
  saldo_anterior: n === 0 ? null : n * 10,
  saldo: (n + 1) * 10,
  descricao: `m${n}`,
  idempotency_key: `key-${n}`,
  timestamp: `2026-12-02T10:00:0${n}.000Z`,
})
const record = (m: Movement) => ({ key: m.cliente_id, value: JSON.stringify(m) })

describe('the movements index', () => {
  it('lists what the movements topic holds, newest first, replayed at start and tailed after', async () => {
    const topic = await createTopic({ partitions: 3 })
    const movements = await createTopic({ partitions: 3, compact: false })
    // Before the service starts: replayed. The bad record in between is skipped, not fatal.
    await produce(movements, [record(movement('7', 10, 0)), { key: '7', value: 'not json' }])
    await produce(movements, [record(movement('7', 10, 1)), record(movement('8', 5, 0))])
    const service = startService(topic, { MOVEMENTS_TOPIC: movements })
    const list = async (id: string, query = '') => {
      const res = await service.get(`/saldo/${id}/movimentos${query}`)
      return { status: res.status, body: await res.json() }
    }
    await waitFor(async () => (await list('7')).status === 200, { what: 'the movements replay' })
    expect((await list('7')).body.movimentos.map((m: Movement) => m.idempotency_key)).toEqual([
      'key-1',
      'key-0',
    ])

    // After: tailed, in offset order, whatever partition each client is on.
    await produce(
      movements,
      [2, 3, 4].map((n) => record(movement('7', 10, n))),
    )
    const latest = await waitFor(
      async () => {
        const { body } = await list('7', '?limit=2')
        return body.movimentos?.[0]?.idempotency_key === 'key-4' ? body : undefined
      },
      { what: 'the tailed movements' },
    )
    expect(latest).toEqual({ cliente_id: '7', movimentos: [movement('7', 10, 4), movement('7', 10, 3)] })
    expect((await list('7', '?limit=100')).body.movimentos).toHaveLength(5)
    expect((await list('8')).body.movimentos).toEqual([movement('8', 5, 0)])
    expect(await list('9')).toEqual({ status: 404, body: { error: 'cliente não encontrado' } })
    // What a movement after a failed transaction waits for: every record produced, on its partition.
    const ends = await Promise.all([0, 1, 2].map((p) => partitionEnds(kafka.admin(), [movements, topic], p)))
    expect(ends.map((end) => end.get(topic))).toEqual([0, 0, 0])
    expect(ends.reduce((sum, end) => sum + (end.get(movements) ?? 0), 0)).toBe(7)
  })

  it('creates the movements topic like TOPIC: same partition count, cleanup.policy=delete, the retention', async () => {
    const topic = await createTopic({ partitions: 2 })
    const service = startService(topic, { MOVEMENTS_RETENTION_MS: '3600000' })
    await waitFor(async () => (await service.get('/saldo/1/movimentos')).status === 404, {
      what: 'the movements topic to be read',
    })
    const admin = kafka.admin()
    await admin.connect()
    try {
      const name = movementsTopicOf(topic)
      const { topics } = await admin.fetchTopicMetadata({ topics: [name] })
      expect(topics[0]?.partitions).toHaveLength(2)
      const configs = await topicConfigs(admin, name, ['cleanup.policy', 'retention.ms'])
      expect(Object.fromEntries(configs)).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': '3600000' })
    } finally {
      await admin.disconnect()
    }
  })

  it('writes a movement and its balance in one Kafka transaction, once per Idempotency-Key', async () => {
    const topic = await createTopic({ partitions: 3 })
    // Alone in its ownership group, the instance owns and writes every partition.
    const service = startService(topic, { SALDO_API_TOKEN: TOKEN })
    await waitUntilReady(service)
    const move = (valor: number, key: string) =>
      service.get('/saldo/7/movimentos', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify({ valor }),
      })
    // 503 until the movements topic is read and the partitions' owner known: retried with the same key.
    const first = await waitFor(
      async () => {
        const res = await move(100, 'k1')
        return res.status === 503 ? undefined : res
      },
      { what: 'the first movement to be answered' },
    )
    expect(first.status).toBe(201)
    const text = await first.text()
    expect((await move(-30, 'k2')).status).toBe(201)
    const again = await move(100, 'k1')
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await again.text()).toBe(text)
    expect((await move(-71, 'k3')).status).toBe(422)

    const balances = await readTopic(topic)
    expect(balances.map((r) => JSON.parse(r.value ?? 'null').saldo)).toEqual([100, 70])
    const movements = await readTopic(movementsTopicOf(topic))
    expect(movements.map((r) => JSON.parse(r.value ?? 'null').idempotency_key)).toEqual(['k1', 'k2'])
    // Same partition number on both topics: they were written together.
    expect(new Set([...balances, ...movements].map((r) => r.partition)).size).toBe(1)
    const listed = await (
      await service.get('/saldo/7/movimentos', { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()
    expect(listed.movimentos.map((m: Movement) => m.saldo)).toEqual([70, 100])
  })
})
