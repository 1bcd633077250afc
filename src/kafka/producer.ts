import { type Message, Partitioners, type Producer } from 'kafkajs'
import type { Balance } from '../balance.ts'
import type { Config } from '../config.ts'
import type { Logger } from '../log.ts'
import { createKafka } from './client.ts'
import { ensureTopic, topicSpec } from './topic.ts'

export type ProducerConfig = Parameters<typeof createKafka>[0] &
  Pick<Config, 'TOPIC' | 'TOPIC_PARTITIONS' | 'TOPIC_REPLICATION_FACTOR'>

/** Where Kafka stored a record. */
export interface Placement {
  partition: number
  offset: number
}

/** A balance in the topic's value format, stamped with an ISO-8601 time (now by default). */
export function balanceAt(clienteId: string, saldo: number, timestamp = new Date().toISOString()): Balance {
  return { cliente_id: clienteId, saldo, timestamp }
}

/** The topic's record for a balance: key = cliente_id, value = the Balance as JSON. */
export function balanceMessage(balance: Balance): Message {
  return { key: balance.cliente_id, value: JSON.stringify(balance) }
}

/** A null value: compaction removes the key, and saldo forgets it. */
export function tombstoneMessage(clienteId: string): Message {
  return { key: clienteId, value: null }
}

/**
 * An idempotent producer on the configured topic, acknowledged by all in-sync replicas. Keys are
 * partitioned by murmur2 like the Java client, so every client puts a cliente_id on the same partition.
 */
export class BalanceProducer {
  readonly topic: string
  readonly #producer: Producer

  private constructor(topic: string, producer: Producer) {
    this.topic = topic
    this.#producer = producer
  }

  /** Creates the compacted topic when it is missing (as saldo-api does), then connects. */
  static async connect(config: ProducerConfig, log: Logger): Promise<BalanceProducer> {
    const kafka = createKafka(config, log, 'saldo-produce')
    const admin = kafka.admin()
    await admin.connect()
    try {
      await ensureTopic(admin, topicSpec(config), log)
    } finally {
      await admin.disconnect()
    }
    const producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      // The idempotent producer's own default: retry until the broker takes the record. Fewer retries
      // would let a send fail after Kafka stored it, and a retry by hand would then duplicate it.
      retry: { retries: Number.MAX_SAFE_INTEGER },
      allowAutoTopicCreation: false,
    })
    await producer.connect()
    return new BalanceProducer(config.TOPIC, producer)
  }

  /** Sends one record and says where it landed. */
  async send(message: Message): Promise<Placement> {
    const [meta] = await this.#producer.send({ topic: this.topic, acks: -1, messages: [message] })
    if (!meta) throw new Error(`Kafka acknowledged no partition for the record of key ${String(message.key)}`)
    return { partition: meta.partition, offset: Number(meta.baseOffset) }
  }

  /** Sends many records in one request per broker; resolves once all are acknowledged. */
  async sendBatch(messages: Message[]): Promise<void> {
    await this.#producer.send({ topic: this.topic, acks: -1, messages })
  }

  disconnect(): Promise<void> {
    return this.#producer.disconnect()
  }
}
