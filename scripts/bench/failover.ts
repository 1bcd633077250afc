import { randomUUID } from 'node:crypto'
import { privateCluster } from './cluster.ts'
import { ApiProcess } from './instance.ts'
import { percentile } from './stats.ts'
import { longestWriteGapMs, runLoad } from './write-load.ts'

const TOKEN = 'bench-failover-token-0123456789'
// Private ports, away from the shared broker and from the cluster tests (19640).
const CLUSTER_PORT = 19760

export interface FailoverRun {
  longestWriteGapMs: number
  killedPartitionWriteGapMs: number
  readP99Ms: number
  writesAcknowledged: number
  writesFailed: number
}

/**
 * On a private 3-node cluster, one saldo-api under PUT and GET load for `seconds`: a third of the way
 * in the leader of partition 0 is SIGKILLed, two thirds in it is started again. Measures the longest
 * time without a successful write (to any partition, and to partition 0) and the read latency.
 */
export async function measureFailover(
  bin: string,
  logDir: string,
  seconds: number,
  say: (line: string) => void,
): Promise<FailoverRun> {
  const cluster = privateCluster(CLUSTER_PORT)
  try {
    const started = await cluster.sh('start', '--brokers', '3')
    if (started.code !== 0) throw new Error(`the 3-node cluster did not start:\n${started.out.slice(-2000)}`)
    const topic = `saldo-bench-failover-${randomUUID().slice(0, 8)}`
    const api = new ApiProcess({
      bin,
      bootstrap: cluster.bootstrap,
      topic,
      stateDir: 'memory',
      logDir,
      name: 'failover',
      env: { SALDO_API_TOKEN: TOKEN },
    })
    try {
      await api.msUntil('/ready', 120_000)
      await cluster.inSync(topic)
      const third = () => Bun.sleep((seconds * 1000) / 3)
      const from = performance.now()
      const timeline = (async () => {
        await third()
        const leader = await cluster.leaderOf(topic, 0)
        say(`  failover: SIGKILL of node ${leader}, leader of partition 0`)
        await cluster.node('kill', leader)
        await third()
        await cluster.node('start', leader)
        await third()
      })()
      const { writes, reads } = await runLoad({
        targets: () => [api],
        token: TOKEN,
        keys: 1000,
        until: timeline,
        writers: 4,
        readers: 2,
        // Clients give up after a second and go on (the write still ends, 200 or 503, on the server):
        // like many independent clients, they do not all end up waiting on the killed partition.
        clientTimeoutMs: 1_000,
      })
      await timeline
      const ok = writes.filter((w) => w.status === 200).length
      return {
        longestWriteGapMs: longestWriteGapMs(writes, from, performance.now()),
        killedPartitionWriteGapMs: longestWriteGapMs(writes, from, performance.now(), 0),
        readP99Ms: percentile(
          reads.filter((r) => r.status !== 0).map((r) => r.ms),
          99,
        ),
        writesAcknowledged: ok,
        writesFailed: writes.filter((w) => w.status !== 200 && w.status !== 404).length,
      }
    } finally {
      await api.stop()
    }
  } finally {
    await cluster.destroy()
  }
}
