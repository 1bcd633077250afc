// bun run bench [--quick] [--runs N] [--out DIR] [--baseline GIT_REF] [--only http]
// Measures saldo side by side with its limits (Kafka's ConsumerPerformance, a bare Bun.serve) against
// the broker on BOOTSTRAP_SERVERS, and writes report.md and report.json into bench-results/.
// Needs: the broker running (scripts/kafka.sh start), Java (as the broker does), wrk (apt-get install -y wrk).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type FailoverRun, measureFailover } from './failover.ts'
import { measureFreshness } from './freshness.ts'
import type { PhaseContext } from './group.ts'
import { measureHttp, startBareServer } from './http-load.ts'
import { benchHttpOnly } from './http-only.ts'
import { ApiProcess, settledRss } from './instance.ts'
import { BenchTopics, produceBalances } from './kafka-tools.ts'
import { commit, load, reportHeader } from './machine.ts'
import { measureMovements, movementTargets } from './movements.ts'
import { measurePartitioned, partitionedTargets } from './partitioned.ts'
import { benchPhaseOnly } from './phase-only.ts'
import { type Plan, parsePlan } from './plan.ts'
import {
  type BenchContext,
  measureReplay,
  type ReplayResult,
  type ReplayVariant,
  type RssRuns,
  type TopicUnderTest,
} from './replay.ts'
import {
  type Freshness,
  type Memory,
  type Report,
  type Restart,
  type RssFigure,
  renderMarkdown,
  type Target,
} from './report.ts'
import { percentile, ratios, spread } from './stats.ts'
import { buildApi } from './toolchain.ts'

const ROOT = join(import.meta.dir, '../..')
const MB = 1024 * 1024
/** The serving instance runs with a token, as in production: every read pays for the check. */
const BENCH_TOKEN = 'saldo-bench-token-0123456789'

function say(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`)
}

/** Which saldo-api runs over which topic: every topic in memory and on disk; one restart figure. */
function variantsFor(
  topic: TopicUnderTest,
  bins: { current: string; baseline?: string },
  plan: Plan,
): ReplayVariant[] {
  const memoryTopic = topic.partitions === 3
  const restartTopic = topic.name === 'dirty' && topic.partitions === 3
  const variants: ReplayVariant[] = [
    { name: 'saldo-api, STATE_DIR=memory', bin: bins.current, persisted: false, measureMemory: memoryTopic },
    { name: 'saldo-api, STATE_DIR=<dir>', bin: bins.current, persisted: true, measureRestart: restartTopic },
  ]
  // Only on the 3-partition topics: on all four, the baseline would add two thirds to a full run.
  // Both stores: a change to either shows side by side, and so does the STATE_DIR ÷ memory ratio.
  if (bins.baseline && topic.partitions === 3) {
    variants.push(
      { name: `saldo-api of ${plan.baseline}, memory`, bin: bins.baseline, persisted: false },
      { name: `saldo-api of ${plan.baseline}, STATE_DIR=<dir>`, bin: bins.baseline, persisted: true },
    )
  }
  return variants
}

async function startupAndEmptyRss(ctx: BenchContext, bin: string, topic: string, runs: number) {
  const ms: number[] = []
  const rss: number[] = []
  for (let run = 1; run <= runs; run++) {
    const api = new ApiProcess({
      bin,
      bootstrap: ctx.bootstrap,
      topic,
      stateDir: 'memory',
      logDir: ctx.workDir,
      name: `startup-${run}`,
    })
    try {
      ms.push(await api.msUntil('/health', 60_000, 2))
      await api.msUntil('/ready')
      rss.push(await settledRss(api.pid))
    } finally {
      await api.stop()
    }
    ctx.say(
      `  startup run ${run}: ${ms.at(-1)?.toFixed(0)} ms to /health, empty RSS ${((rss.at(-1) ?? 0) / MB).toFixed(0)} MiB`,
    )
  }
  return { ms, rss }
}

function rssFigure({ peak, settled }: RssRuns): RssFigure {
  return {
    peakRssMB: spread(peak.map((b) => b / MB)),
    settledRssMB: spread(settled.map((b) => b / MB)),
    peakOverSettled: ratios(peak, settled),
  }
}

function restartFigure(result: ReplayResult | undefined, topic: string): Restart {
  if (!result || result.restart.fullSeconds.length === 0) throw new Error('no restart figure was measured')
  const { fullSeconds, checkpointSeconds } = result.restart
  const speedup = ratios(fullSeconds, checkpointSeconds)
  return {
    topic,
    ...rssFigure(result.restart.rss),
    fullReplaySeconds: spread(fullSeconds),
    checkpointSeconds: spread(checkpointSeconds),
    speedup,
    // Without a snapshot the second start replays everything again: nothing to judge yet.
    verdict: speedup.median < 1.5 ? 'n/a until persistence lands' : speedup.median >= 5 ? 'met' : 'missed',
  }
}

/** The figures issue 14 set (hot paths at the runtime's limit), then the ones met before it. */
function targets(report: Omit<Report, 'targets' | 'notes'>): Target[] {
  const x = (n: number) => `${n.toFixed(2)} x`
  const target = (figure: string, goal: string, measured: string, met: boolean | null): Target => ({
    figure,
    target: goal,
    measured,
    met,
  })
  const { http, memory, restart: r } = report
  const list: Target[] = [
    target(
      'GET saturation ÷ bare Bun.serve (token configured, metrics on)',
      '≥ 0.9 x',
      x(http.saturation.vsBare.median),
      http.saturation.vsBare.median >= 0.9,
    ),
  ]
  const p99 = http.half.saldo.p99Ms.median / http.half.bare.p99Ms.median
  list.push(target(`p99 at ${http.half.rate} req/s ÷ bare p99`, '≤ 1.3 x', x(p99), p99 <= 1.3))
  for (const t of memory.topics) {
    const perKey = t.bytesPerKey.median
    list.push(target(`settled RSS per key, ${t.topic}`, '≤ 150 B', `${perKey.toFixed(0)} B`, perKey <= 150))
  }
  for (const t of report.replay.filter((t) => t.partitions === 3)) {
    const [inMemory, persisted] = t.saldo
    const goal = t.name === 'dirty' ? 0.4 : 0.5
    const ratio = inMemory?.vsPerfTest.median ?? 0
    list.push(target(`replay ${t.name} 3p ÷ ConsumerPerformance`, `≥ ${goal} x`, x(ratio), ratio >= goal))
    if (inMemory && persisted) {
      // Rates compare inversely to times, run by run.
      const disk = ratios(inMemory.seconds.runs, persisted.seconds.runs).median
      list.push(target(`replay ${t.name} 3p, STATE_DIR ÷ memory`, '≥ 0.85 x', x(disk), disk >= 0.85))
    }
  }
  list.push(
    target(
      'cold start from the snapshot: peak ÷ settled RSS',
      '≤ 1.3 x',
      x(r.peakOverSettled.median),
      r.peakOverSettled.median <= 1.3,
    ),
    target(
      'restart from checkpoint',
      '≥ 5 x faster than full replay',
      x(r.speedup.median),
      r.verdict === 'n/a until persistence lands' ? null : r.verdict === 'met',
    ),
    target(
      'freshness p99',
      '≤ 20 ms',
      `${report.freshness.p99Ms.median.toFixed(1)} ms`,
      report.freshness.p99Ms.median <= 20,
    ),
    ...movementTargets(report.movements),
    ...partitionedTargets(report.partitioned),
  )
  return list
}

const NOTES = [
  'Replay: saldo-api is timed from exec of the compiled binary to GET /ready = 200 (Bun start, metadata, group join and replay). ConsumerPerformance is timed by itself from its consumer start (JVM start excluded, group join included), with its default settings. MiB are keys + values, as ConsumerPerformance counts them.',
  'The topics are compacted with min.compaction.lag.ms of a day, so the dirty topic keeps all its records during the run. Values are the topic format of the seed: {"cliente_id","saldo","timestamp"} JSON, key = cliente_id.',
  'Memory: RSS of saldo-api once ready and settled (sampled each second until two samples agree within 2%), minus the settled RSS of an instance on an empty topic, divided by the keys; on the clean and the dirty 3-partition topics (same keys). Peak RSS is VmHWM at ready: the most the process held until then.',
  "HTTP: wrk with one thread and random-get.lua (random ids of the loaded keys). The fixed rate is half of saldo's median saturation, paced by the script's delay() hook (wrk2 is not in Debian); wrk counts latency from the write of a request, so waiting for a busy connection is not included (coordinated omission).",
  'Freshness: each update carries its send time and is observed with GET /saldo/:id?min_position=<partition:offset+1>, which answers as soon as saldo-api applied it; the latency includes the producer acknowledgement (acks=all), so it is an upper bound; its share is shown apart. A first second of updates warms up and is not counted.',
  'Failover: a private 3-node cluster (scripts/kafka.sh start --brokers 3, RF 3, min.insync.replicas 2), one saldo-api, 4 writers PUTting and DELETEing 1,000 keys and 2 readers; the leader of partition 0 is SIGKILLed a third of the way in and started again at two thirds. The gaps are the longest times without a successful write, to any partition and to partition 0 (the nodes fence a dead peer after 6 s; a client gives up a request after 1 s and goes on); read p99 covers the whole run.',
  'Restart: the persisted variant writes STATE_DIR, is stopped with SIGTERM, and started again on the same folder; its peak and settled RSS are those of the restarted process (loading the snapshot).',
  'HTTP: saldo-api runs with SALDO_API_TOKEN set and its metrics on, as in production; every request (to the bare server too) carries the bearer token.',
  'Movements: two saldo-api instances (MODE=replica, one GROUP) split the ownership of a 6-partition topic; 16 clients in a closed loop each POST /saldo/:id/movimentos (valor 1, a fresh Idempotency-Key) on 200 ids of the partitions the first instance owns, to it (the owner) and then to the other (which forwards each to the owner); then PUTs to the owner. Each movement is a Kafka transaction of a balance and a movement record.',
  'Partitioned: the same keys on a 6-partition topic, MODE=partitioned with STANDBY_REPLICAS=1, with 1, 2 and 3 instances (each layout started afresh, a group of its own): keys held and settled RSS per instance once every instance holds its owned and standby partitions. With 3 instances, wrk GETs one id of a partition the first instance holds, then one id of a partition it does not (forwarded to its owner), from the first instance. Failover: 3 instances started afresh each run, 8 closed-loop clients GET 1,200 ids of every partition through the first, each answer compared with the saldo it had before; the third is SIGKILLed; the load goes on until the two survivors own every partition and hold its keys, plus 3 s. The gap runs from the kill to the last answer that was not a right 200; a run of 503s on a partition, from the sending of its first to the answer of its last.',
  'The machine is shared (2 cores, other test runs at the same time): absolute figures are noisy; the ratios pair figures measured back to back in the same run.',
]

async function main(): Promise<void> {
  const plan = parsePlan(Bun.argv.slice(2), ROOT, process.env.BOOTSTRAP_SERVERS ?? 'localhost:9092')
  if (!Bun.which('wrk')) throw new Error('wrk is needed for the HTTP figures: apt-get install -y wrk')
  const started = performance.now()
  const loadAtStart = load()
  const measured = commit(ROOT)
  const workDir = mkdtempSync(join(tmpdir(), 'saldo-bench-'))
  const ctx: BenchContext = { root: ROOT, bootstrap: plan.bootstrap, workDir, say }
  const topics = new BenchTopics(plan.bootstrap)
  const interrupted = () => {
    say('interrupted; deleting the bench topics')
    void topics.deleteAll().finally(() => process.exit(130))
  }
  process.on('SIGINT', interrupted)
  process.on('SIGTERM', interrupted)
  try {
    say(`bench (${plan.mode}, ${plan.runs} run(s)); work folder ${workDir}`)
    const bins = {
      current: await buildApi(ROOT, undefined, join(workDir, 'bin')),
      ...(plan.baseline ? { baseline: await buildApi(ROOT, plan.baseline, join(workDir, 'baseline')) } : {}),
    }
    const phase: PhaseContext = {
      root: ROOT,
      bin: bins.current,
      bootstrap: plan.bootstrap,
      workDir,
      topics,
      token: BENCH_TOKEN,
      runs: plan.runs,
      seconds: plan.clusterSeconds,
      say,
    }
    if (plan.only) {
      if (plan.only === 'http') await benchHttpOnly(plan, ctx, bins, BENCH_TOKEN)
      else await benchPhaseOnly(plan, plan.only, phase)
      rmSync(workDir, { recursive: true, force: true })
      return
    }
    const specs: TopicUnderTest[] = []
    for (const [name, records] of [
      ['clean', plan.keys],
      ['dirty', plan.dirtyRecords],
    ] as const) {
      for (const partitions of [1, 3]) {
        const topic = await topics.create(`${name}-${partitions}p`, partitions)
        const produced = await produceBalances(ROOT, plan.bootstrap, topic, records, plan.keys)
        say(`produced ${topic}: ${records} records in ${(produced.ms / 1000).toFixed(1)} s`)
        specs.push({ name, topic, partitions, records, keys: plan.keys })
      }
    }
    const empty = await topics.create('empty', 3)

    say('startup and empty RSS')
    const startup = await startupAndEmptyRss(ctx, bins.current, empty, plan.runs)

    const replays: ReplayResult[] = []
    for (const spec of specs) {
      say(`replay ${spec.name} ${spec.partitions}p`)
      replays.push(await measureReplay(ctx, spec, variantsFor(spec, bins, plan), plan.runs))
    }
    const clean3 = specs.findIndex((s) => s.name === 'clean' && s.partitions === 3)
    const dirty3 = specs.findIndex((s) => s.name === 'dirty' && s.partitions === 3)
    const emptyRss = spread(startup.rss).median
    const memory: Memory = {
      keys: plan.keys,
      emptyRssMB: spread(startup.rss.map((b) => b / MB)),
      topics: [clean3, dirty3].map((i) => {
        const spec = specs[i]
        const rss = replays[i]?.rss
        if (!spec || !rss) throw new Error('no memory figure was measured')
        return {
          topic: `${spec.name} ${spec.partitions}p`,
          records: spec.records,
          bytesPerKey: spread(rss.settled.map((b) => (b - emptyRss) / plan.keys)),
          ...rssFigure(rss),
        }
      }),
    }

    const serving = specs[clean3]
    if (!serving) throw new Error('no clean 3-partition topic')
    say('HTTP and freshness')
    const api = new ApiProcess({
      bin: bins.current,
      bootstrap: plan.bootstrap,
      topic: serving.topic,
      stateDir: 'memory',
      logDir: workDir,
      name: 'serving',
      env: { SALDO_API_TOKEN: BENCH_TOKEN },
    })
    let http: Report['http']
    let freshness: Freshness
    try {
      await api.msUntil('/ready')
      const bare = await startBareServer(plan.keys)
      try {
        http = await measureHttp(
          { url: api.url, token: BENCH_TOKEN },
          { url: bare.url, token: BENCH_TOKEN },
          plan.keys,
          plan.httpSeconds,
          plan.runs,
          say,
        )
      } finally {
        await bare.stop()
      }
      const runs = []
      for (let run = 1; run <= plan.runs; run++) {
        const r = await measureFreshness(
          { url: api.url, token: BENCH_TOKEN },
          plan.bootstrap,
          serving.topic,
          plan.keys,
          plan.freshnessRate,
          plan.freshnessSeconds,
        )
        runs.push(r)
        say(`  freshness run ${run}: p99 ${percentile(r.latencies, 99).toFixed(1)} ms, ${r.late} late`)
      }
      freshness = {
        rate: plan.freshnessRate,
        seconds: plan.freshnessSeconds,
        observed: spread(runs.map((r) => r.latencies.length)),
        late: runs.reduce((sum, r) => sum + r.late, 0),
        p50Ms: spread(runs.map((r) => percentile(r.latencies, 50))),
        p99Ms: spread(runs.map((r) => percentile(r.latencies, 99))),
        maxMs: spread(runs.map((r) => percentile(r.latencies, 100))),
        ackP50Ms: spread(runs.map((r) => percentile(r.acks, 50))),
        ackP99Ms: spread(runs.map((r) => percentile(r.acks, 99))),
      }
    } finally {
      await api.stop()
    }

    say('failover on a private 3-node cluster')
    const failovers: FailoverRun[] = []
    for (let run = 1; run <= plan.runs; run++) {
      const r = await measureFailover(bins.current, workDir, plan.failoverSeconds, say)
      failovers.push(r)
      say(
        `  failover run ${run}: longest write gap ${r.longestWriteGapMs.toFixed(0)} ms, read p99 ${r.readP99Ms.toFixed(1)} ms`,
      )
    }
    const failover = {
      seconds: plan.failoverSeconds,
      longestWriteGapMs: spread(failovers.map((r) => r.longestWriteGapMs)),
      killedPartitionWriteGapMs: spread(failovers.map((r) => r.killedPartitionWriteGapMs)),
      readP99Ms: spread(failovers.map((r) => r.readP99Ms)),
      writesAcknowledged: spread(failovers.map((r) => r.writesAcknowledged)),
      writesFailed: spread(failovers.map((r) => r.writesFailed)),
    }

    say('movements through the owner and forwarded')
    const movements = await measureMovements(phase)
    say('MODE=partitioned with 1, 2 and 3 instances')
    // The clean 3-partition topic again: 3 instances then own one partition each, and hold a standby of another.
    const partitioned = await measurePartitioned(phase, serving, emptyRss / MB)

    const body: Omit<Report, 'targets' | 'notes'> = {
      header: reportHeader(plan, ROOT, started, loadAtStart, measured),
      replay: replays.map((r) => r.topic),
      restart: restartFigure(
        replays[dirty3],
        `dirty 3p (${plan.dirtyRecords.toLocaleString('en-US')} records)`,
      ),
      memory,
      http,
      freshness,
      startup: { msToHealth: spread(startup.ms) },
      failover,
      movements,
      partitioned,
    }
    const report: Report = { ...body, targets: targets(body), notes: NOTES }
    mkdirSync(plan.outDir, { recursive: true })
    writeFileSync(join(plan.outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`)
    writeFileSync(join(plan.outDir, 'report.md'), renderMarkdown(report))
    say(`report: ${join(plan.outDir, 'report.md')} (${body.header.minutes.toFixed(1)} min)`)
    rmSync(workDir, { recursive: true, force: true })
  } catch (error) {
    say(`failed; the logs of the processes are in ${workDir}`)
    throw error
  } finally {
    // Said, not thrown: thrown here it would hide why the run failed (a broker restarted under a run
    // lost its topics, and the failed deletion was all the run reported).
    await topics
      .deleteAll()
      .catch((error: unknown) => say(`could not delete the bench topics: ${String(error)}`))
  }
}

await main()
