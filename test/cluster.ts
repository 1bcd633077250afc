import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { kafkaScript, waitFor } from './helpers.ts'

export const NODES = [1, 2, 3] as const

/** A private 3-node KRaft cluster (scripts/kafka.sh start --brokers 3), shared by one test file. */
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
  /** Waits until every replica of every partition of `topic` is in sync again. */
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
  const metadata = async (topic: string) => {
    const admin = kafka.admin()
    await admin.connect()
    try {
      return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions ?? []
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
      return waitFor(
        async () => {
          const leader = (await metadata(topic)).find((p) => p.partitionId === partition)?.leader ?? -1
          return leader > 0 ? leader : undefined
        },
        { what: `a leader of partition ${partition} of ${topic}` },
      )
    },
    async inSync(topic, timeoutMs = 60_000) {
      await waitFor(
        async () => (await metadata(topic)).every((p) => p.isr.length === p.replicas.length && p.leader > 0),
        { timeoutMs, what: `every replica of ${topic} in sync` },
      )
    },
    async destroy() {
      await sh('stop')
      rmSync(home, { recursive: true, force: true })
    },
  }
}
