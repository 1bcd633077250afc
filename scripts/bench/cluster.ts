import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'

const SCRIPT = join(import.meta.dir, '../kafka.sh')

/** Runs `scripts/kafka.sh` with `args` in `env`; resolves with its exit code and what it printed. */
export async function kafkaScript(
  env: Record<string, string | undefined>,
  ...args: string[]
): Promise<{ code: number; out: string }> {
  const run = Bun.spawn(['bash', SCRIPT, ...args], { env, stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([
    new Response(run.stdout).text(),
    new Response(run.stderr).text(),
    run.exited,
  ])
  return { code, out: `${out}${err}` }
}

/** Polls `probe` every `pollMs` until it returns something truthy; throws naming `what` after `timeoutMs`. */
export async function until<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
  pollMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    const value = await probe().catch((error: unknown) => {
      last = error
      return undefined
    })
    if (value) return value
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(last)}`)
    await Bun.sleep(pollMs)
  }
}

export const NODES = [1, 2, 3] as const
/** The broker's own topics that transactions and consumer groups write to. */
const INTERNAL_TOPICS = ['__transaction_state', '__consumer_offsets']

/** A private 3-node KRaft cluster (scripts/kafka.sh start --brokers 3), for a test file or the bench. */
export interface PrivateCluster {
  bootstrap: string
  /** A client of its own, for independent reads of the topic and its metadata. */
  kafka: Kafka
  /** Runs `scripts/kafka.sh …args` on this cluster. */
  sh(...args: string[]): Promise<{ code: number; out: string }>
  /** Runs `scripts/kafka.sh <command> --node N` and fails the test if the script does. */
  node(command: 'start' | 'stop' | 'kill', node: number): Promise<void>
  /** The node id that leads `partition` of `topic` now. */
  leaderOf(topic: string, partition: number): Promise<number>
  /** Waits until every replica of every partition of `topic`, and of Kafka's own topics, is in sync again. */
  inSync(topic: string, timeoutMs?: number): Promise<void>
  /** Stops every node and removes the cluster's folder. */
  destroy(): Promise<void>
}

/** Nodes on `basePort`..+2, controllers on +3..+5, state under /tmp: the shared broker is never touched. */
export function privateCluster(basePort: number): PrivateCluster {
  const home = mkdtempSync(join(tmpdir(), 'saldo-kafka-'))
  const bootstrap = NODES.map((n) => `localhost:${basePort + n - 1}`).join(',')
  const env = { ...process.env, KAFKA_HOME_DIR: home, BOOTSTRAP_SERVERS: bootstrap }
  const kafka = new Kafka({
    clientId: 'saldo-cluster-tests',
    brokers: bootstrap.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, maxRetryTime: 2_000 },
  })
  const sh = (...args: string[]) => kafkaScript(env, ...args)
  const metadata = async (topic: string) => (await topicsMetadata([topic]))[0]?.partitions ?? []
  const topicsMetadata = async (topics: string[]) => {
    const admin = kafka.admin()
    await admin.connect()
    try {
      return (await admin.fetchTopicMetadata({ topics })).topics
    } finally {
      await admin.disconnect()
    }
  }
  const existing = async (topics: readonly string[]) => {
    const admin = kafka.admin()
    await admin.connect()
    try {
      const listed = new Set(await admin.listTopics())
      return topics.filter((topic) => listed.has(topic))
    } finally {
      await admin.disconnect()
    }
  }
  return {
    bootstrap,
    kafka,
    sh,
    async node(command, node) {
      const run = await sh(command, '--node', String(node))
      if (run.code !== 0) throw new Error(`kafka.sh ${command} --node ${node} failed: ${run.out}`)
    },
    async leaderOf(topic, partition) {
      return until(
        async () => {
          const leader = (await metadata(topic)).find((p) => p.partitionId === partition)?.leader ?? -1
          return leader > 0 ? leader : undefined
        },
        30_000,
        `a leader of partition ${partition} of ${topic}`,
      )
    },
    async inSync(topic, timeoutMs = 60_000) {
      // Kafka's own topics too: a node restarted a moment ago may still be catching up on the
      // transaction log, and killing another node then leaves its partitions under
      // min.insync.replicas, which stops every transaction (seen in CI: 0 of 65 writes acknowledged).
      const topics = [topic, ...(await existing(INTERNAL_TOPICS))]
      await until(
        async () =>
          (await topicsMetadata(topics)).every((t) =>
            t.partitions.every((p) => p.isr.length === p.replicas.length && p.leader > 0),
          ),
        timeoutMs,
        `every replica of ${topics.join(', ')} in sync`,
      )
    },
    async destroy() {
      await sh('stop')
      rmSync(home, { recursive: true, force: true })
    },
  }
}
