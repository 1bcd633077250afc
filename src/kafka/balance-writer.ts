import { type Kafka, type Message, Partitioners, type Producer } from 'kafkajs'
import type { Balance } from '../balance.ts'
import type { Logger } from '../log.ts'
import { balanceMessage, type Placement, tombstoneMessage } from './producer.ts'

export interface BalanceWriterOptions {
  kafka: Kafka
  topic: string
  /** The deadline of one write, connect included: past it the write fails (WRITE_TIMEOUT_MS). */
  timeoutMs: number
  log: Logger
}

/**
 * Writes balances and tombstones for the HTTP API: idempotent producer, acks from all in-sync
 * replicas, and the Java client's partitioner, so a key lands where every other Kafka client puts it.
 * Unlike saldo-produce (which retries for ever), a write has a deadline: an HTTP client waits on it,
 * and a failed PUT or DELETE is safe to repeat (the same value or tombstone again).
 *
 * A producer whose send failed is never used again. With bounded retries, kafkajs rolls a failed
 * batch's sequence number back even when the broker had appended it; the next record on that
 * partition then reuses the sequence, the broker takes it for a duplicate and answers with the
 * *old* offset: a write acknowledged that is not in the log. A new producer has a new producer id,
 * whose sequences start afresh.
 */
export class BalanceWriter {
  readonly #options: BalanceWriterOptions
  #producer: Promise<Producer> | undefined

  constructor(options: BalanceWriterOptions) {
    this.#options = options
  }

  put(balance: Balance): Promise<Placement> {
    return this.#send(balanceMessage(balance))
  }

  delete(clienteId: string): Promise<Placement> {
    return this.#send(tombstoneMessage(clienteId))
  }

  async close(): Promise<void> {
    const producer = this.#producer
    this.#producer = undefined
    if (producer) await (await producer).disconnect()
  }

  async #send(message: Message): Promise<Placement> {
    const { topic, timeoutMs } = this.#options
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Kafka did not acknowledge it within WRITE_TIMEOUT_MS=${timeoutMs} ms`)),
        timeoutMs,
      )
    })
    let pending = this.#connected()
    try {
      let producer = await Promise.race([pending, deadline])
      // Another write may have failed on this producer while we waited for it: take the new one.
      while (this.#producer !== pending) {
        pending = this.#connected()
        producer = await Promise.race([pending, deadline])
      }
      const [sent] = await Promise.race([
        producer.send({ topic, acks: -1, timeout: timeoutMs, messages: [message] }),
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
