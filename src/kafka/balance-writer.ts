import { type Kafka, type Message, Partitioners, type Producer } from 'kafkajs'
import type { Balance } from '../balance.ts'
import type { Logger } from '../log.ts'
import { PartitionQueue } from './partition-queue.ts'
import { balanceMessage, type Placement, tombstoneMessage } from './producer.ts'

export interface BalanceWriterOptions {
  kafka: Kafka
  topic: string
  /** The deadline of one write, connect included: past it the write fails (WRITE_TIMEOUT_MS). */
  timeoutMs: number
  log: Logger
  /** What is known to be wrong with Kafka now (the /ready warnings and error), named in a timeout. */
  trouble: () => readonly string[]
  /** The topic's partition count as last seen (0: not known yet). */
  partitions: () => number
}

// The partitioner the producer uses too, so a write waits only behind writes to its own partition.
const partitionOf = Partitioners.DefaultPartitioner()

/**
 * Writes balances and tombstones for the HTTP API: idempotent producer, acks from all in-sync
 * replicas, and the Java client's partitioner, so a key lands where every other Kafka client puts it.
 * Unlike saldo-produce (which retries for ever), a write has a deadline: an HTTP client waits on it,
 * and a failed PUT or DELETE is safe to repeat (the same value or tombstone again).
 *
 * kafkajs rolls a partition's sequence number back after every failed produce request, even one
 * the broker had appended. A record that then takes that sequence is taken by the broker for a
 * duplicate and answered with the *old* record's offset: a write acknowledged that is not in the log
 * (and the first one, retried, lands twice). Measured on a 3-node cluster with a leader killed under
 * load: 2 records applied twice, 1 acknowledged at another record's offset. So:
 * - one send at a time per partition (sequences are per partition): no record can pick up a sequence
 *   rolled back under another one's feet, and kafkajs' own retries of that one send reuse its
 *   sequence, which the broker deduplicates. A partition waiting on its leader holds back no other's;
 * - a producer whose send failed is never used again: the next write gets a new producer id, whose
 *   sequences start afresh.
 */
export class BalanceWriter {
  readonly #options: BalanceWriterOptions
  #producer: Promise<Producer> | undefined
  /** Per partition (-1: unknown yet): each write waits for the one before. */
  readonly #queue = new PartitionQueue()

  constructor(options: BalanceWriterOptions) {
    this.#options = options
  }

  put(balance: Balance): Promise<Placement> {
    return this.#enqueue(balanceMessage(balance))
  }

  delete(clienteId: string): Promise<Placement> {
    return this.#enqueue(tombstoneMessage(clienteId))
  }

  async close(): Promise<void> {
    await this.#queue.idle()
    const producer = this.#producer
    this.#producer = undefined
    if (producer) await (await producer).disconnect()
  }

  #enqueue(message: Message): Promise<Placement> {
    const expires = Date.now() + this.#options.timeoutMs
    const count = this.#options.partitions()
    // Should the count have grown since, two queues may feed one partition for a while: the only
    // overlap left, until the materializer has seen the new partitions.
    const partition =
      count > 0
        ? partitionOf({
            topic: this.#options.topic,
            partitionMetadata: Array.from({ length: count }, (_, id) => ({
              partitionId: id,
              leader: -1,
              partitionErrorCode: 0,
              replicas: [],
              isr: [],
            })),
            message,
          })
        : -1
    return this.#queue.run(partition, () => this.#send(message, expires))
  }

  async #send(message: Message, expires: number): Promise<Placement> {
    const { topic, timeoutMs } = this.#options
    const late = () => {
      const known = this.#options.trouble()
      return new Error(
        `Kafka did not acknowledge it within WRITE_TIMEOUT_MS=${timeoutMs} ms` +
          (known.length > 0
            ? `; Kafka now: ${known.join('; ')}`
            : ': its partition leader is down or being elected, or fewer replicas are in sync than min.insync.replicas'),
      )
    }
    const remaining = expires - Date.now()
    // Its time ran out while earlier writes were sent: it was never sent, so it is certainly not in the log.
    if (remaining <= 0) throw late()
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(late()), remaining)
    })
    const pending = this.#connected()
    try {
      const producer = await Promise.race([pending, deadline])
      const [sent] = await Promise.race([
        producer.send({ topic, acks: -1, timeout: remaining, messages: [message] }),
        deadline,
      ])
      const offset = sent?.baseOffset ?? sent?.offset
      if (!sent || offset === undefined)
        throw new Error(`Kafka acknowledged the write to ${topic} without an offset`)
      return { partition: sent.partition, offset: Number(offset) }
    } catch (error) {
      this.#discard(pending, error)
      throw error
    } finally {
      clearTimeout(timer)
    }
  }

  /** Drops a producer after a failed write: the next write creates a new one (a new producer id). */
  #discard(producer: Promise<Producer>, error: unknown): void {
    if (this.#producer !== producer) return
    this.#producer = undefined
    this.#options.log.warn('a write to Kafka failed; the next write uses a new producer', {
      topic: this.#options.topic,
      error,
    })
    // Its send may still be retrying; disconnecting ends that, in the background.
    producer.then((p) => p.disconnect()).catch(() => {})
  }

  #connected(): Promise<Producer> {
    if (!this.#producer) {
      const producer = this.#options.kafka.producer({
        idempotent: true,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      })
      const connecting = producer.connect().then(() => producer)
      this.#producer = connecting
      // A failed connect fails the write waiting on it, which discards it; no unhandled rejection here.
      connecting.catch(() => {})
    }
    return this.#producer
  }
}
