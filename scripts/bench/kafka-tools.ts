import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'

/** Runs a class on the broker's jars (scripts/kafka.sh run-class); returns stdout, throws with stderr. */
async function runClass(root: string, args: string[]): Promise<string> {
  const run = Bun.spawn([join(root, 'scripts/kafka.sh'), 'run-class', ...args], {
    cwd: root,
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [out, err, code] = await Promise.all([
    new Response(run.stdout).text(),
    new Response(run.stderr).text(),
    run.exited,
  ])
  if (code !== 0) throw new Error(`${args[0]} exited ${code}:\n${err.slice(-2000)}`)
  return out
}

/** The bench's topics: created per run under a unique name, and all deleted at the end. */
export class BenchTopics {
  readonly #kafka: Kafka
  readonly #created: string[] = []
  readonly #suffix = randomUUID().slice(0, 8)

  constructor(bootstrap: string) {
    this.#kafka = new Kafka({
      clientId: 'saldo-bench',
      brokers: bootstrap.split(','),
      logLevel: logLevel.NOTHING,
    })
  }

  /**
   * A compacted topic as saldo expects it. The cleaner is held off for a day so that a dirty topic
   * keeps every record during the run (the figure is a replay before compaction).
   */
  async create(name: string, partitions: number): Promise<string> {
    const topic = `saldo-bench-${name}-${this.#suffix}`
    const admin = this.#kafka.admin()
    await admin.connect()
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic,
            numPartitions: partitions,
            configEntries: [
              { name: 'cleanup.policy', value: 'compact' },
              { name: 'min.compaction.lag.ms', value: String(24 * 3600 * 1000) },
            ],
          },
        ],
      })
    } finally {
      await admin.disconnect()
    }
    this.#created.push(topic)
    return topic
  }

  /** A topic saldo-api creates itself (MOVEMENTS_TOPIC), named like the others and deleted with them. */
  adopt(name: string): string {
    const topic = `saldo-bench-${name}-${this.#suffix}`
    this.#created.push(topic)
    return topic
  }

  async deleteAll(): Promise<void> {
    if (this.#created.length === 0) return
    const admin = this.#kafka.admin()
    await admin.connect()
    try {
      await admin.deleteTopics({ topics: this.#created.splice(0) })
    } finally {
      await admin.disconnect()
    }
  }
}

export interface Produced {
  records: number
  bytes: number
  ms: number
}

/** Fills `topic` with `count` balances over `keys` cliente_ids (scripts/bench/BulkBalances.java). */
export async function produceBalances(
  root: string,
  bootstrap: string,
  topic: string,
  count: number,
  keys: number,
): Promise<Produced> {
  const out = await runClass(root, [
    join(root, 'scripts/bench/BulkBalances.java'),
    bootstrap,
    topic,
    String(count),
    String(keys),
  ])
  // The Java launch sometimes leaves ANSI colour resets before the figures on stdout (seen 2026-12).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape sequences are what this strips
  const figures = out.replace(/\u001b\[[0-9;]*m/g, '').trim()
  const [records, bytes, ms] = figures.split(/\s+/).map(Number)
  if (records !== count || !bytes || ms === undefined)
    throw new Error(`BulkBalances said ${JSON.stringify(out)}`)
  return { records, bytes, ms }
}

export interface PerfTestResult {
  records: number
  megabytes: number
  /** From the consumer's start (after the JVM started) to the last record, group join included. */
  seconds: number
}

/** Kafka's own consumer perf test reading all of `topic`: the limit saldo's replay is held against. */
export async function consumerPerformance(
  root: string,
  bootstrap: string,
  topic: string,
  records: number,
): Promise<PerfTestResult> {
  const out = await runClass(root, [
    'org.apache.kafka.tools.ConsumerPerformance',
    '--bootstrap-server',
    bootstrap,
    '--topic',
    topic,
    '--messages',
    String(records),
    '--group',
    `saldo-bench-perf-${randomUUID().slice(0, 8)}`,
    '--timeout',
    '60000',
    '--hide-header',
  ])
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, …
  const line = out.trim().split('\n').at(-1) ?? ''
  const fields = line.split(',').map((f) => f.trim())
  const megabytes = Number(fields[2])
  const read = Number(fields[4])
  const perSecond = Number(fields[5])
  if (read !== records || !(perSecond > 0)) {
    throw new Error(`ConsumerPerformance read ${read} of ${records} records of ${topic}: ${line}`)
  }
  return { records: read, megabytes, seconds: read / perSecond }
}
