import { type Kafka, type Message, Partitioners, type Producer, type RecordMetadata } from 'kafkajs'
import type { Config } from '../config.ts'
import type { Logger } from '../log.ts'
import { PartitionLease, type Reached } from './partition-lease.ts'
import { PartitionQueue } from './partition-queue.ts'
import type { Placement } from './producer.ts'
import { Fenced, NotOwner, Stopped } from './transaction-errors.ts'

export { Fenced, NotOwner, Stopped } from './transaction-errors.ts'

/** A record for one of saldo's topics. */
export interface TopicRecord {
  topic: string
  message: Message
}

/** The one writer of each partition it acquired, appending in Kafka transactions. */
export interface PartitionTransactions {
  /** Becomes the only writer of `partition`: a transactional producer with transactional.id
   *  `${GROUP}.${TOPIC}.${partition}` (its initTransactions fences any older one). Resolves when ready. */
  acquire(partition: number): Promise<void>
  /** Stops writing `partition` (aborts nothing committed; in-flight transactions finish or fail). */
  release(partition: number): Promise<void>
  /** Appends the records to `partition` of their topics in ONE Kafka transaction; resolves with where
   *  each landed, in order, once committed. Rejects with `NotOwner` when not acquired, `Fenced` when
   *  another instance took the partition, `Stopped` after a transaction whose outcome Kafka did not
   *  tell (acquire again if still the owner). One transaction at a time per partition. */
  append(partition: number, records: TopicRecord[]): Promise<Placement[]>
  close(): Promise<void>
}

export interface KafkaPartitionTransactionsOptions {
  kafka: Kafka
  /** GROUP and TOPIC name the transactional.ids; WRITE_TIMEOUT_MS is the deadline of one append. */
  config: Pick<Config, 'GROUP' | 'TOPIC' | 'WRITE_TIMEOUT_MS'>
  log: Logger
  /** What is known to be wrong with Kafka now (the /ready warnings and error), named in a timeout. */
  trouble: () => readonly string[]
}

const UNCOMMITTED = 'nothing of it is committed'

/** What an append was doing when it failed or ran out of time, why Kafka may stall there, and what then holds. */
const STAGES = {
  queued: { doing: 'waiting for the partition’s earlier appends', stalls: '', outcome: UNCOMMITTED },
  initializing: {
    doing: 'initializing its transactional producer',
    stalls:
      'the transaction coordinator is unreachable or loading, or still completing the previous transaction',
    outcome: UNCOMMITTED,
  },
  sending: {
    doing: 'sending its records',
    stalls:
      'a partition leader is down or being elected, or fewer replicas are in sync than min.insync.replicas',
    outcome: UNCOMMITTED,
  },
  committing: {
    doing: 'committing',
    stalls: 'the transaction coordinator did not confirm the commit',
    outcome: 'it may or may not be committed: read the partition before writing it again',
  },
} as const
type Stage = keyof typeof STAGES

/**
 * PartitionTransactions on Kafka, as Kafka Streams' exactly-once (v1) does it per task: one
 * transactional producer per acquired partition, whose transactional.id is fixed by GROUP, TOPIC and
 * the partition number. Whoever initializes that id last is the only one whose transactions commit:
 * the broker bumps the id's epoch, aborts what the older producer left open and refuses everything it
 * sends afterwards. So two instances that both believe they own a partition (a paused one that has not
 * noticed the rebalance) cannot both append: a write is acknowledged only once its transaction
 * committed, and a zombie's commit fails.
 *
 * Appends of one partition run one after another (the producer has a single transaction state), each
 * with a deadline (WRITE_TIMEOUT_MS, the broker's transaction timeout too: a transaction open longer
 * than an append may take was abandoned, and readers must not wait on it longer than that).
 */
export class KafkaPartitionTransactions implements PartitionTransactions {
  readonly #options: KafkaPartitionTransactionsOptions
  readonly #leases = new Map<number, PartitionLease>()
  readonly #queue = new PartitionQueue()

  constructor(options: KafkaPartitionTransactionsOptions) {
    this.#options = options
  }

  /** The transactional.id of a partition, the same on every instance of the group. */
  transactionalId(partition: number): string {
    const { GROUP, TOPIC } = this.#options.config
    return `${GROUP}.${TOPIC}.${partition}`
  }

  /**
   * A new lease, initialized at once rather than in line behind the partition's appends: becoming the
   * writer is what fences any older one, this instance's own earlier lease included. A failed
   * initialization rejects, and the partition stays acquired: its next append tries again.
   */
  async acquire(partition: number): Promise<void> {
    const lease = new PartitionLease({
      topic: this.#options.config.TOPIC,
      partition,
      transactionalId: this.transactionalId(partition),
      initialize: () => this.#initialize(partition),
      abortTimeoutMs: this.#options.config.WRITE_TIMEOUT_MS,
      log: this.#options.log,
    })
    const previous = this.#leases.get(partition)
    this.#leases.set(partition, lease)
    void previous?.end()
    await lease.producer()
  }

  /** Appends not yet started answer NotOwner; the one in flight finishes, then the producer goes. */
  async release(partition: number): Promise<void> {
    const lease = this.#leases.get(partition)
    if (!lease) return
    this.#leases.delete(partition)
    await this.#queue.run(partition, () => lease.end())
  }

  append(partition: number, records: TopicRecord[]): Promise<Placement[]> {
    const expires = Date.now() + this.#options.config.WRITE_TIMEOUT_MS
    return this.#queue.run(partition, () => this.#transact(partition, records, expires))
  }

  async close(): Promise<void> {
    await Promise.all([...this.#leases.keys()].map((partition) => this.release(partition)))
  }

  async #transact(partition: number, records: TopicRecord[], expires: number): Promise<Placement[]> {
    // Ownership is decided when the append's turn comes, not when it was queued: one released meanwhile
    // must not be written.
    const lease = this.#leases.get(partition)
    if (!lease) throw new NotOwner(this.#options.config.TOPIC, partition)
    if (records.length === 0) return []
    let stage: Stage = 'queued'
    const remaining = expires - Date.now()
    if (remaining <= 0) throw this.#late(partition, stage)
    let timer: ReturnType<typeof setTimeout> | undefined
    let late = false
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = true
        reject(this.#late(partition, stage))
      }, remaining)
    })
    const within = <T>(work: Promise<T>) => Promise.race([work, deadline])
    stage = 'initializing'
    const pending = lease.producer()
    let transaction: Awaited<ReturnType<Producer['transaction']>> | undefined
    try {
      const producer = await within(pending)
      transaction = await within(producer.transaction())
      stage = 'sending'
      const sent = await within(
        transaction.sendBatch({ acks: -1, timeout: remaining, topicMessages: byTopic(partition, records) }),
      )
      // Checked before the commit: kafkajs silently leaves out records for a partition a topic does not
      // have, and committing the rest would split what must be atomic (a balance without its movement).
      const placed = placements(partition, records, sent)
      stage = 'committing'
      await within(transaction.commit())
      return placed
    } catch (error) {
      const reached: Reached =
        stage === 'committing'
          ? { stage }
          : stage === 'sending' && transaction
            ? { stage: 'sent', open: transaction }
            : { stage: 'unsent' }
      const reported = lease.failed(pending, error, reached)
      const named = error instanceof NotOwner || error instanceof Fenced || error instanceof Stopped
      if (reported !== error || late || named) throw reported
      // kafkajs' own message names the broker's error; what it means for the append is said here.
      const { doing, outcome } = STAGES[stage]
      throw new Error(
        `the transaction on partition ${partition} (transactional.id ${this.transactionalId(partition)}) ` +
          `failed while ${doing}: ${(error as Error).message}; ${outcome}`,
        { cause: error },
      )
    } finally {
      clearTimeout(timer)
    }
  }

  async #initialize(partition: number): Promise<Producer> {
    const producer = this.#options.kafka.producer({
      transactionalId: this.transactionalId(partition),
      idempotent: true,
      // One request in flight per broker connection: a retried batch cannot overtake another.
      maxInFlightRequests: 1,
      // A transaction's first send asks the coordinator to add its partitions, and right after the
      // previous commit it often answers CONCURRENT_TRANSACTIONS (its markers are still being
      // written). The Java client retries that after 20 ms; with the client's 300 ms, one-record
      // appends measured 6/s (p50 250 ms) instead of 176/s (p50 2 ms). Retries stay
      // unlimited, as the idempotent producer's default: the append's deadline bounds them.
      retry: { initialRetryTime: 20, retries: Number.MAX_SAFE_INTEGER },
      transactionTimeout: this.#options.config.WRITE_TIMEOUT_MS,
      allowAutoTopicCreation: false,
      // Records carry their partition; the default partitioner honours it (and kafkajs stays quiet).
      createPartitioner: Partitioners.DefaultPartitioner,
    })
    try {
      await producer.connect()
      // kafkajs sends InitProducerId for the transactional.id (the Java client's initTransactions,
      // which fences older producers) only when the first transaction begins: begin and end an empty
      // one now. It added no partition, so ending it sends nothing to the broker.
      await (await producer.transaction()).abort()
      return producer
    } catch (error) {
      await producer.disconnect().catch(() => {})
      throw error
    }
  }

  #late(partition: number, stage: Stage): Error {
    const { WRITE_TIMEOUT_MS } = this.#options.config
    const { doing, stalls, outcome } = STAGES[stage]
    const known = this.#options.trouble()
    return new Error(
      `the transaction on partition ${partition} (transactional.id ${this.transactionalId(partition)}) ` +
        `did not complete within WRITE_TIMEOUT_MS=${WRITE_TIMEOUT_MS} ms, while ${doing}` +
        (stalls ? ` (${stalls})` : '') +
        `; ${outcome}` +
        (known.length > 0 ? `; Kafka now: ${known.join('; ')}` : ''),
    )
  }
}

/** The records grouped by topic (kafkajs sends one batch per topic-partition), in order, on `partition`. */
function byTopic(partition: number, records: TopicRecord[]): Array<{ topic: string; messages: Message[] }> {
  const topics = new Map<string, Message[]>()
  for (const { topic, message } of records) {
    const messages = topics.get(topic) ?? []
    messages.push({ ...message, partition })
    topics.set(topic, messages)
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }))
}

/** Where each record lands: a topic's records are one batch, at consecutive offsets from its base. */
function placements(partition: number, records: TopicRecord[], sent: RecordMetadata[]): Placement[] {
  const base = new Map(sent.map((meta) => [meta.topicName, meta.baseOffset ?? meta.offset]))
  const seen = new Map<string, number>()
  return records.map(({ topic }) => {
    const first = base.get(topic)
    if (first === undefined)
      throw new Error(
        `Kafka took no record for partition ${partition} of ${topic}: the topic has fewer partitions ` +
          '(every topic of a transaction needs the partition count of the balances topic)',
      )
    const index = seen.get(topic) ?? 0
    seen.set(topic, index + 1)
    return { partition, offset: Number(first) + index }
  })
}
