import { type Kafka, Partitioners, type Producer } from 'kafkajs'
import type { Balance } from '../balance.ts'

/** Where a write landed in the topic. */
export interface WrittenAt {
  partition: number
  offset: number
}

/**
 * Writes balances and tombstones to the topic: idempotent producer, acks from all in-sync replicas,
 * and the Java client's partitioner, so a key lands where every other Kafka client puts it.
 */
export class BalanceWriter {
  readonly #kafka: Kafka
  readonly #topic: string
  #producer: Promise<Producer> | undefined

  constructor(kafka: Kafka, topic: string) {
    this.#kafka = kafka
    this.#topic = topic
  }

  put(balance: Balance): Promise<WrittenAt> {
    return this.#send(balance.cliente_id, JSON.stringify(balance))
  }

  delete(clienteId: string): Promise<WrittenAt> {
    return this.#send(clienteId, null)
  }

  async close(): Promise<void> {
    const producer = this.#producer
    this.#producer = undefined
    if (producer) await (await producer).disconnect()
  }

  async #send(key: string, value: string | null): Promise<WrittenAt> {
    const [sent] = await (await this.#connected()).send({
      topic: this.#topic,
      acks: -1,
      messages: [{ key, value }],
    })
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
