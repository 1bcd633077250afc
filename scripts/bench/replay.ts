import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { ApiProcess, peakRss, settledRss } from './instance.ts'
import { consumerPerformance } from './kafka-tools.ts'
import type { ReplayTopic, Throughput } from './report.ts'
import { ratios, spread } from './stats.ts'

export interface BenchContext {
  root: string
  bootstrap: string
  /** Logs of every process, and STATE_DIR folders. */
  workDir: string
  say(line: string): void
}

export interface TopicUnderTest {
  name: string
  topic: string
  partitions: number
  records: number
  keys: number
}

/** One way of running saldo-api over a topic. */
export interface ReplayVariant {
  name: string
  bin: string
  persisted: boolean
  /** Also measure the peak RSS at ready and the settled RSS after it. */
  measureMemory?: boolean
  /** Also restart on the snapshot just written and time that replay (persisted variants). */
  measureRestart?: boolean
}

/** RSS in bytes, per run: the highest until ready, and once settled after it. */
export interface RssRuns {
  peak: number[]
  settled: number[]
}

export interface ReplayResult {
  topic: ReplayTopic
  /** Of the variants that measure memory. */
  rss: RssRuns
  /** Restarts on the snapshot just written: their times and their RSS (peak ÷ settled: the load's cost). */
  restart: { fullSeconds: number[]; checkpointSeconds: number[]; rss: RssRuns }
}

async function measureRss(api: ApiProcess, into: RssRuns): Promise<void> {
  into.peak.push(peakRss(api.pid))
  into.settled.push(await settledRss(api.pid))
}

let instances = 0

/** Starts saldo-api and waits for /ready; returns seconds from process start and the process. */
async function replayOnce(
  ctx: BenchContext,
  bin: string,
  topic: TopicUnderTest,
  stateDir: string,
): Promise<{ seconds: number; api: ApiProcess }> {
  const api = new ApiProcess({
    bin,
    bootstrap: ctx.bootstrap,
    topic: topic.topic,
    stateDir,
    logDir: ctx.workDir,
    name: `saldo-api-${++instances}`,
  })
  try {
    const seconds = (await api.msUntil('/ready')) / 1000
    const keys = await api.keys()
    // A fast replay that lost records is no result.
    if (keys !== topic.keys)
      throw new Error(`replay of ${topic.topic} ended with ${keys} keys, not ${topic.keys}`)
    return { seconds, api }
  } catch (error) {
    await api.stop()
    throw error
  }
}

function throughput(seconds: number[], records: number, megabytes: number): Throughput {
  return {
    seconds: spread(seconds),
    recordsPerSecond: spread(seconds.map((s) => records / s)),
    megabytesPerSecond: spread(seconds.map((s) => megabytes / s)),
  }
}

/**
 * Replays `topic` `runs` times with Kafka's ConsumerPerformance and every variant, interleaved run by
 * run so that a noisy minute hits them alike; each ratio pairs a variant with the perf test of its run.
 */
export async function measureReplay(
  ctx: BenchContext,
  topic: TopicUnderTest,
  variants: readonly ReplayVariant[],
  runs: number,
): Promise<ReplayResult> {
  const perf: number[] = []
  let megabytes = 0
  const seconds = variants.map(() => [] as number[])
  const rss: RssRuns = { peak: [], settled: [] }
  const restart: ReplayResult['restart'] = {
    fullSeconds: [],
    checkpointSeconds: [],
    rss: { peak: [], settled: [] },
  }
  for (let run = 1; run <= runs; run++) {
    const limit = await consumerPerformance(ctx.root, ctx.bootstrap, topic.topic, topic.records)
    perf.push(limit.seconds)
    megabytes = limit.megabytes
    ctx.say(`  ${topic.name} run ${run}: perf test ${limit.seconds.toFixed(1)} s`)
    for (const [i, variant] of variants.entries()) {
      const stateDir = variant.persisted ? mkdtempSync(join(ctx.workDir, 'state-')) : 'memory'
      try {
        const { seconds: s, api } = await replayOnce(ctx, variant.bin, topic, stateDir)
        try {
          seconds[i]?.push(s)
          if (variant.measureMemory) await measureRss(api, rss)
        } finally {
          await api.stop()
        }
        let note = ''
        if (variant.measureRestart) {
          const again = await replayOnce(ctx, variant.bin, topic, stateDir)
          try {
            await measureRss(again.api, restart.rss)
          } finally {
            await again.api.stop()
          }
          restart.fullSeconds.push(s)
          restart.checkpointSeconds.push(again.seconds)
          note = `, restart ${again.seconds.toFixed(1)} s`
        }
        ctx.say(`  ${topic.name} run ${run}: ${variant.name} ${s.toFixed(1)} s${note}`)
      } finally {
        if (variant.persisted) rmSync(stateDir, { recursive: true, force: true })
      }
    }
  }
  const limit = throughput(perf, topic.records, megabytes)
  return {
    topic: {
      name: topic.name,
      partitions: topic.partitions,
      records: topic.records,
      keys: topic.keys,
      megabytes,
      perfTest: limit,
      saldo: variants.map((v, i) => {
        const own = seconds[i] ?? []
        // Rates compare inversely to times: saldo's rate / the perf test's = perf seconds / saldo seconds.
        return { name: v.name, ...throughput(own, topic.records, megabytes), vsPerfTest: ratios(perf, own) }
      }),
    },
    rss,
    restart,
  }
}
