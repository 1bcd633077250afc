import { describe, expect, it } from 'bun:test'
import type { Kafka, RecordMetadata } from 'kafkajs'
import { BalanceWriter } from '../../src/kafka/balance-writer.ts'
import { createLogger } from '../../src/log.ts'

type Send = () => Promise<RecordMetadata[]>

/** A Kafka client whose producers take their answers, in order, from `sends`; each producer is counted. */
function fakeKafka(sends: Send[]) {
  const producers: Array<{ sends: number; disconnected: boolean }> = []
  const kafka = {
    producer: () => {
      const producer = { sends: 0, disconnected: false }
      producers.push(producer)
      return {
        connect: async () => {},
        disconnect: async () => {
          producer.disconnected = true
        },
        send: () => {
          producer.sends++
          return (sends.shift() ?? (() => Promise.reject(new Error('no answer left'))))()
        },
      }
    },
  } as unknown as Kafka
  return { kafka, producers }
}

const acked =
  (offset: number): Send =>
  async () => [{ topicName: 'contas', partition: 1, errorCode: 0, baseOffset: String(offset) }]

const writer = (kafka: Kafka, timeoutMs = 5_000) =>
  new BalanceWriter({
    kafka,
    topic: 'contas',
    timeoutMs,
    trouble: () => ['partition 1 of contas has no leader'],
    partitions: () => 3,
    log: createLogger({ LOG_LEVEL: 'error', LOG_FORMAT: 'json' }, {}, () => {}),
  })

const balance = (saldo: number) => ({ cliente_id: '7', saldo, timestamp: '2025-10-14T10:30:45' })

describe('BalanceWriter', () => {
  it('keeps one producer while writes succeed', async () => {
    const { kafka, producers } = fakeKafka([acked(10), acked(11)])
    const w = writer(kafka)
    expect(await w.put(balance(1))).toEqual({ partition: 1, offset: 10 })
    expect(await w.delete('7')).toEqual({ partition: 1, offset: 11 })
    expect(producers).toHaveLength(1)
  })

  it('never sends again through a producer whose send failed: the next write gets a new producer id', async () => {
    const { kafka, producers } = fakeKafka([
      () => Promise.reject(new Error('NOT_LEADER_FOR_PARTITION')),
      acked(12),
    ])
    const w = writer(kafka)
    await expect(w.put(balance(1))).rejects.toThrow('NOT_LEADER_FOR_PARTITION')
    expect(await w.put(balance(2))).toEqual({ partition: 1, offset: 12 })
    expect(producers.map((p) => p.sends)).toEqual([1, 1])
    expect(producers[0]?.disconnected).toBe(true)
  })

  it('sends one write at a time, so none can reuse a sequence number rolled back under another', async () => {
    let release = () => {}
    const first: Send = () =>
      new Promise((resolve) => {
        release = () => resolve([{ topicName: 'contas', partition: 1, errorCode: 0, baseOffset: '20' }])
      })
    const { kafka, producers } = fakeKafka([first, acked(21)])
    const w = writer(kafka)
    const writes = [w.put(balance(1)), w.put(balance(2))]
    await Bun.sleep(10)
    expect(producers[0]?.sends).toBe(1)
    release()
    expect(await Promise.all(writes)).toEqual([
      { partition: 1, offset: 20 },
      { partition: 1, offset: 21 },
    ])
  })

  it('lets a write to another partition through while one partition waits', async () => {
    const { kafka, producers } = fakeKafka([() => new Promise(() => {}), acked(30)])
    const w = writer(kafka, 300)
    const stuck = w.put(balance(1))
    // Keys 7 and 2 are on partitions 0 and 2 of 3 (murmur2, as the Java client).
    expect(await w.put({ ...balance(2), cliente_id: '2' })).toEqual({ partition: 1, offset: 30 })
    expect(producers[0]?.sends).toBe(2)
    await expect(stuck).rejects.toThrow('WRITE_TIMEOUT_MS=300')
  })

  it('fails a write whose send hangs within WRITE_TIMEOUT_MS, not after the client library gives up', async () => {
    const { kafka, producers } = fakeKafka([() => new Promise(() => {}), acked(13)])
    const w = writer(kafka, 200)
    const started = performance.now()
    await expect(w.put(balance(1))).rejects.toThrow(
      'within WRITE_TIMEOUT_MS=200 ms; Kafka now: partition 1 of contas has no leader',
    )
    const elapsed = performance.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(190)
    expect(elapsed).toBeLessThan(1_000)
    expect(await w.put(balance(2))).toEqual({ partition: 1, offset: 13 })
    expect(producers).toHaveLength(2)
  })
})
