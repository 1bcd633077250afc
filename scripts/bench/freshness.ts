import { Kafka, logLevel, Partitioners } from 'kafkajs'
import { balanceAt, balanceMessage } from '../../src/kafka/producer.ts'
import type { LoadTarget } from './http-load.ts'

export interface FreshnessRun {
  /** Milliseconds from handing each update to the producer until GET answered with it. */
  latencies: number[]
  /** Of which: until the producer's acknowledgement. */
  acks: number[]
  /** Updates not queryable within saldo-api's MIN_POSITION_WAIT_MS (GET answered 503). */
  late: number
}

/**
 * Produces `rate` updates a second for `seconds` to random keys of a ready saldo-api, each stamped
 * with its send time, and observes each one with GET /saldo/:id?min_position=<its partition:offset+1>:
 * saldo-api answers as soon as it has applied the update. The latency therefore also holds the
 * producer's acknowledgement (acks=all), which a consumer of the record never waits for; it is an
 * upper bound of produce → queryable, and the acknowledgement's share is kept apart. A first second
 * of the same load warms up connections, metadata and JIT, and is not counted.
 */
export async function measureFreshness(
  { url, token }: LoadTarget,
  bootstrap: string,
  topic: string,
  keys: number,
  rate: number,
  seconds: number,
): Promise<FreshnessRun> {
  const kafka = new Kafka({
    clientId: 'saldo-bench-freshness',
    brokers: bootstrap.split(','),
    logLevel: logLevel.NOTHING,
  })
  // Not idempotent: that would allow one request in flight, and queue updates behind each other.
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  })
  await producer.connect()
  let latencies: number[] = []
  let acks: number[] = []
  let late = 0
  const observe = async (id: string, sentAt: number, saldo: number) => {
    const [meta] = await producer.send({
      topic,
      acks: -1,
      messages: [balanceMessage(balanceAt(id, saldo, new Date().toISOString()))],
    })
    if (!meta) throw new Error(`no acknowledgement for the update of ${id}`)
    acks.push(performance.now() - sentAt)
    const position = `${meta.partition}:${Number(meta.baseOffset) + 1}`
    const answer = await fetch(`${url}/saldo/${id}?min_position=${position}`, {
      headers: { authorization: `Bearer ${token}` },
    })
    await answer.arrayBuffer()
    if (answer.status === 200) latencies.push(performance.now() - sentAt)
    else if (answer.status === 503) late++
    else throw new Error(`GET /saldo/${id}?min_position=${position} answered ${answer.status}`)
  }
  const updates = async (total: number) => {
    const pending: Array<Promise<void>> = []
    const startedAt = performance.now()
    for (let i = 0; i < total; i++) {
      const due = startedAt + (i * 1000) / rate
      const ahead = due - performance.now()
      if (ahead >= 1) await Bun.sleep(ahead)
      const id = String(1 + Math.floor(Math.random() * keys))
      pending.push(observe(id, performance.now(), i))
    }
    await Promise.all(pending)
  }
  try {
    await updates(rate)
    latencies = []
    acks = []
    late = 0
    await updates(Math.round(rate * seconds))
  } finally {
    await producer.disconnect()
  }
  return { latencies, acks, late }
}
