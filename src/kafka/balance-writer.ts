import { type Kafka, type Message, Partitioners, type Producer } from 'kafkajs'
import type { Balance } from '../balance.ts'
import { balanceMessage, type Placement, tombstoneMessage } from './producer.ts'

/**
 * Writes balances and tombstones for the HTTP API: idempotent producer, acks from all in-sync
 * replicas, and the Java client's partitioner, so a key lands where every other Kafka client puts it.
 * Unlike saldo-produce (which retries for ever), it keeps kafkajs' bounded retries: an HTTP client
 * waits on it, and a failed PUT or DELETE is safe to repeat (the same value or tombstone again).
 */
export class BalanceWriter {
  readonly #kafka: Kafka
  readonly #topic: string
  #producer: Promise<Producer> | undefined

  constructor(kafka: Kafka, topic: string) {
    this.#kafka = kafka
    this.#topic = topic
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
    const [sent] = await (await this.#connected()).send({ topic: this.#topic, acks: -1, messages: [message] })
    const offset = sent?.baseOffset ?? sent?.offset
    if (!sent || offset === undefined)
      throw new Error(`Kafka acknowledged the write to ${this.#topic} without an offset`)
    return { partition: sent.partition, offset: Number(offset) }
  }

  #connected(): Promise<Producer> {
    if (!this.#producer) {
      const producer = this.#kafka.producer({
        idempotent: true,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      })
      this.#producer = producer.connect().then(
        () => producer,
        (error) => {
          this.#producer = undefined
          throw error
        },
      )
    }
    return this.#producer
  }
}
