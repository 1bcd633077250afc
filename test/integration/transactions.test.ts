import { describe, expect, it } from 'bun:test'
import type { Kafka, Transaction } from 'kafkajs'
import { createKafka } from '../../src/kafka/client.ts'
import {
  Fenced,
  KafkaPartitionTransactions,
  NotOwner,
  Stopped,
  type TopicRecord,
} from '../../src/kafka/partition-transactions.ts'
import type { Placement } from '../../src/kafka/producer.ts'
import {
  balanceRecord,
  captureLog,
  createTopic,
  onCleanup,
  type Reachable,
  type ReadRecord,
  readEvents,
  readTopicKcat,
  startService,
  testConfig,
  waitFor,
  waitUntilReady,
} from '../helpers.ts'

/** An instance's PartitionTransactions on `topic`, with saldo's own kafkajs settings; closed after the test. */
/**
 * A service that only reads here: a group of its own, so that its own owner's writer (whose
 * transactional.ids follow GROUP) does not fence the writers these tests drive by hand.
 */
const readingService = (topic: string) => startService(topic, { GROUP: 'saldo-test-reader' })

function instance(topic: string, { timeoutMs = 10_000, kafka }: { timeoutMs?: number; kafka?: Kafka } = {}) {
  const config = testConfig(topic, { WRITE_TIMEOUT_MS: String(timeoutMs) })
  const { log } = captureLog()
  const writer = new KafkaPartitionTransactions({
    kafka: kafka ?? createKafka(config, log),
    config,
    log,
    trouble: () => [],
  })
  onCleanup(() => writer.close())
  return writer
}

const committed = (topic: string) => readTopicKcat(topic)

const balance = (topic: string, id: string, saldo: number): TopicRecord => ({
  topic,
  message: balanceRecord(id, saldo),
})

/**
 * A kafkajs client whose producers stall one transaction once `arm()` was called: after its records
 * are sent (`afterSend`) or just before its commit (`beforeCommit`), until `resume()`. A writer paused
 * mid-transaction (a long GC, SIGSTOP), on the real broker; the stall is the only thing changed.
 */
function stalling(kafka: Kafka, point: 'afterSend' | 'beforeCommit') {
  let armed = false
  const reached = Promise.withResolvers<void>()
  const gate = Promise.withResolvers<void>()
  onCleanup(() => gate.resolve())
  const stall = async (here: typeof point) => {
    if (!armed || here !== point) return
    armed = false
    reached.resolve()
    await gate.promise
  }
  const client = Object.create(kafka) as Kafka
  client.producer = (config) => {
    const producer = kafka.producer(config)
    const transaction = producer.transaction
    producer.transaction = async (): Promise<Transaction> => {
      const txn = await transaction()
      return {
        ...txn,
        sendBatch: async (batch) => {
          const sent = await txn.sendBatch(batch)
          await stall('afterSend')
          return sent
        },
        commit: async () => {
          await stall('beforeCommit')
          await txn.commit()
        },
      }
    }
    return producer
  }
  return {
    kafka: client,
    arm: () => {
      armed = true
    },
    /** Resolves once a transaction is stalled: its records are in the log, uncommitted. */
    reached: reached.promise,
    resume: () => gate.resolve(),
  }
}

/**
 * A writer of partition 0 of `topic` (deadline `timeoutMs`) that appended `id` = 1, then stalled at
 * `point` in its append of `id` = 2: resolves once that one's records are in the log, uncommitted.
 */
async function stalledWriter(
  topic: string,
  id: string,
  point: 'afterSend' | 'beforeCommit',
  timeoutMs: number,
) {
  const { log } = captureLog()
  const stalled = stalling(createKafka(testConfig(topic), log), point)
  const writer = instance(topic, { kafka: stalled.kafka, timeoutMs })
  await writer.acquire(0)
  await writer.append(0, [balance(topic, id, 1)])
  stalled.arm()
  const pending = writer.append(0, [balance(topic, id, 2)])
  await stalled.reached
  return { writer, pending, resume: stalled.resume }
}

/** What a service answers for `id` once it has applied `placed`. */
async function servedOnceApplied(service: Reachable, id: string, placed: Placement | undefined) {
  const answer = await service.get(`/saldo/${id}?min_position=0:${(placed?.offset ?? 0) + 1}`)
  return answer.json()
}

describe('transactional writers per partition', () => {
  it('appends a balance and its movements in one transaction, at the same partition of both topics', async () => {
    const topic = await createTopic({ partitions: 3 })
    const movements = await createTopic({ partitions: 3, compact: false })
    const writer = instance(topic)
    await writer.acquire(2)

    const first = await writer.append(2, [
      balance(topic, '7', 10),
      { topic: movements, message: { key: '7', value: 'm1' } },
    ])
    const second = await writer.append(2, [
      { topic: movements, message: { key: '7', value: 'm2' } },
      balance(topic, '7', 15),
      { topic: movements, message: { key: '7', value: 'm3' } },
    ])

    // Every placement names the record an independent read_committed reader finds there.
    const [balances, moves] = await Promise.all([committed(topic), committed(movements)])
    const at = (reads: ReadRecord[], { partition, offset }: Placement) =>
      reads.find((r) => r.partition === partition && r.offset === offset)?.value
    expect([first, second].flat().every((p) => p.partition === 2)).toBe(true)
    expect(first.map((p, i) => at(i === 0 ? balances : moves, p))).toEqual([
      String(balanceRecord('7', 10).value),
      'm1',
    ])
    expect(second.map((p, i) => at(i === 1 ? balances : moves, p))).toEqual([
      'm2',
      String(balanceRecord('7', 15).value),
      'm3',
    ])
    expect(balances.length).toBe(2)
    expect(moves.map((r) => r.value)).toEqual(['m1', 'm2', 'm3'])

    // Only acquired partitions take appends.
    await expect(writer.append(1, [balance(topic, '1', 1)])).rejects.toBeInstanceOf(NotOwner)
    await writer.release(2)
    await expect(writer.append(2, [balance(topic, '7', 20)])).rejects.toBeInstanceOf(NotOwner)
    expect((await committed(topic)).length).toBe(2)
  })

  it('commits nothing of an append when one of its topics lacks the partition, and appends again once acquired again', async () => {
    const topic = await createTopic({ partitions: 3 })
    const movements = await createTopic({ partitions: 1, compact: false })
    const writer = instance(topic)
    await writer.acquire(2)

    await expect(
      writer.append(2, [balance(topic, '7', 10), { topic: movements, message: { key: '7', value: 'm1' } }]),
    ).rejects.toThrow(
      `failed while sending its records: Kafka took no record for partition 2 of ${movements}: the topic has fewer partitions`,
    )
    // The failed transaction ended the lease: no new producer until the partition is acquired again.
    await expect(writer.append(2, [balance(topic, '7', 11)])).rejects.toBeInstanceOf(Stopped)
    await writer.acquire(2)
    await writer.append(2, [balance(topic, '7', 11)])
    expect((await committed(topic)).map((r) => JSON.parse(r.value ?? 'null')?.saldo)).toEqual([11])
    expect(await committed(movements)).toEqual([])
  })

  it('lets the transaction in flight at release commit, and refuses the appends queued behind it', async () => {
    const topic = await createTopic({ partitions: 1 })
    const { writer, pending, resume } = await stalledWriter(topic, 'r', 'beforeCommit', 30_000)
    const queued = writer.append(0, [balance(topic, 'r', 3)])
    const released = writer.release(0)
    resume()
    const [placed] = await pending
    await expect(queued).rejects.toBeInstanceOf(NotOwner)
    await released
    const visible = await committed(topic)
    expect(visible.map((r) => JSON.parse(r.value ?? 'null')?.saldo)).toEqual([1, 2])
    expect(visible[1]?.offset).toBe(placed?.offset)
  })

  it('fences the first instance once a second acquires the partition: every acknowledged append visible, nothing refused visible', async () => {
    const topic = await createTopic({ partitions: 1 })
    const a = instance(topic)
    const b = instance(topic)
    await a.acquire(0)
    const acknowledged: Array<Placement & { value: string }> = []
    const refused: Array<{ value: string; error: unknown }> = []
    const append = async (writer: KafkaPartitionTransactions, value: string) => {
      const record = balance(topic, 'hot', 0)
      record.message.value = value
      try {
        const [placed] = await writer.append(0, [record])
        if (placed) acknowledged.push({ ...placed, value })
      } catch (error) {
        refused.push({ value, error })
        throw error
      }
    }
    // A writes one append after another until it is refused; B takes the partition meanwhile.
    const writing = (async () => {
      for (let i = 0; i < 10_000; i++) await append(a, `a-${i}`)
    })().catch((error: unknown) => error)
    await waitFor(() => acknowledged.length >= 5, { what: 'A to have appended 5 records' })
    await b.acquire(0)
    // A's append in flight at the takeover commits before it, or fails: Fenced, or, when its commit
    // raced B's initialization, a commit Kafka did not confirm. Either way A writes nothing more: its
    // next append is refused without a new producer (which would fence B), and B keeps writing.
    const first = await writing
    expect(first instanceof Fenced || String(first).includes('failed while committing')).toBe(true)
    const after = await append(a, 'a-after').catch((error: unknown) => error)
    expect(after instanceof Fenced || after instanceof Stopped).toBe(true)
    for (let i = 0; i < 5; i++) await append(b, `b-${i}`)

    const visible = await committed(topic)
    const shown = (value: string) => visible.some((r) => r.value === value)
    const lost = acknowledged.filter(
      (ack) => !visible.some((r) => r.offset === ack.offset && r.value === ack.value),
    )
    const final = (error: unknown) => error instanceof Fenced || error instanceof Stopped
    const leaked = refused.filter((no) => final(no.error) && shown(no.value))
    const unknown = refused.filter((no) => !final(no.error))
    console.log(
      `fencing: ${acknowledged.length} acknowledged, ${visible.length} visible, ${lost.length} lost, ` +
        `${refused.length} refused (${unknown.length} of unknown outcome, ` +
        `${unknown.filter((no) => shown(no.value)).length} of those visible), ${leaked.length} refused yet visible`,
    )
    expect(lost).toEqual([])
    expect(leaked).toEqual([])
    expect(unknown.length).toBeLessThanOrEqual(1)
    expect(visible.length).toBe(acknowledged.length + unknown.filter((no) => shown(no.value)).length)
    expect(visible.slice(-5).map((r) => r.value)).toEqual(['b-0', 'b-1', 'b-2', 'b-3', 'b-4'])
  })

  it('stops writing after a commit Kafka did not confirm, until the partition is acquired again', async () => {
    const topic = await createTopic({ partitions: 1 })
    const { writer, pending, resume } = await stalledWriter(topic, 'u', 'beforeCommit', 2_000)
    await expect(pending).rejects.toThrow(
      /did not complete within WRITE_TIMEOUT_MS=2000 ms, while committing.*it may or may not be committed/,
    )
    await expect(writer.append(0, [balance(topic, 'u', 3)])).rejects.toBeInstanceOf(Stopped)
    await writer.acquire(0)
    // The re-acquisition aborted the transaction left open: its commit, now sent, is refused.
    resume()
    await writer.append(0, [balance(topic, 'u', 4)])
    expect((await committed(topic)).map((r) => JSON.parse(r.value ?? 'null')?.saldo)).toEqual([1, 4])
  })

  it('never lets saldo apply a transaction that hit its deadline mid-way: it is aborted, and appends go on once acquired again', async () => {
    const topic = await createTopic({ partitions: 1 })
    const service = readingService(topic)
    await waitUntilReady(service)
    const changes = readEvents((await service.get('/events')).body as ReadableStream<Uint8Array>)
    const { writer, pending } = await stalledWriter(topic, '9', 'afterSend', 3_000)
    await expect(pending).rejects.toThrow(/did not complete within WRITE_TIMEOUT_MS=3000 ms.*sending/)
    await expect(writer.append(0, [balance(topic, '9', 3)])).rejects.toBeInstanceOf(Stopped)
    await writer.acquire(0)
    const [placed] = await writer.append(0, [balance(topic, '9', 3)])

    expect(await servedOnceApplied(service, '9', placed)).toMatchObject({ saldo: 3 })
    await waitFor(() => changes.events.length >= 2, { what: 'the changes of client 9' })
    expect(changes.data<{ saldo: number }>('change').map((c) => c.saldo)).toEqual([1, 3])
    // The aborted record is in the log (a read_uncommitted reader takes it), not in the committed view.
    const values = (reads: ReadRecord[]) => reads.map((r) => JSON.parse(r.value ?? 'null')?.saldo)
    expect(values(await readTopicKcat(topic, { isolation: 'read_uncommitted' }))).toEqual([1, 2, 3])
    expect(values(await committed(topic))).toEqual([1, 3])
  })

  it('fails a zombie’s commit: begun, partition acquired elsewhere, then committed; its record never visible', async () => {
    const topic = await createTopic({ partitions: 1 })
    const { writer: zombie, pending, resume } = await stalledWriter(topic, 'z', 'beforeCommit', 30_000)
    const owner = instance(topic)
    await owner.acquire(0)
    resume()
    await expect(pending).rejects.toBeInstanceOf(Fenced)
    const [placed] = await owner.append(0, [balance(topic, 'z', 3)])
    await expect(zombie.append(0, [balance(topic, 'z', 4)])).rejects.toBeInstanceOf(Fenced)
    await owner.append(0, [balance(topic, 'z', 5)])

    const visible = await committed(topic)
    expect(visible.map((r) => JSON.parse(r.value ?? 'null')?.saldo)).toEqual([1, 3, 5])
    expect(visible[1]?.offset).toBe(placed?.offset)
  })

  it('holds readers behind a writer stuck mid-transaction only until another instance acquires the partition', async () => {
    const topic = await createTopic({ partitions: 1 })
    const service = readingService(topic)
    await waitUntilReady(service)
    // Its transaction timeout (= its deadline) is 60 s: only a takeover can end its transaction sooner.
    const stuck = await stalledWriter(topic, 's', 'afterSend', 60_000)

    const started = performance.now()
    const owner = instance(topic)
    await owner.acquire(0)
    const [placed] = await owner.append(0, [balance(topic, 's', 3)])
    const served = await servedOnceApplied(service, 's', placed)
    const ms = performance.now() - started
    console.log(`takeover: the service applied the new owner's write ${ms.toFixed(0)} ms after acquire began`)
    expect(served).toMatchObject({ saldo: 3 })
    expect(ms).toBeLessThan(10_000)
    stuck.resume()
    await expect(stuck.pending).rejects.toBeInstanceOf(Fenced)
  })
})
