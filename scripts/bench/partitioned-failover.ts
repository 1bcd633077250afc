import { murmur2Partition } from '../../src/kafka/partitioning.ts'
import { type CheckedReadLog, checkedReads, longestUnavailableRun, missesAfter } from './checked-reads.ts'
import { until } from './cluster.ts'
import { type PhaseContext, settledGroup } from './group.ts'
import type { ApiProcess } from './instance.ts'
import { idsOn } from './movements.ts'
import { holdsItsKeys, type KeyedTopic, startLayout, withLayout } from './partitioned-layout.ts'
import type { FailoverPartition, PartitionedFailover, Target } from './report.ts'
import { spread } from './stats.ts'

const INSTANCES = 3
const CLIENTS = 8
/** Every partition is read all along: about 400 ids each on the full run's 3 partitions, 200 on --only's 6. */
const IDS = 1200
/** The load goes on this long after the survivors settled: a late 503 or wrong answer shows here. */
const TAIL_MS = 3_000
/** The default, said explicitly: the gap's figures depend on it. */
const SESSION_TIMEOUT_MS = 10_000

interface FailoverRun {
  counts: CheckedReadLog['counts']
  firstMissMs: number
  gapMs: number
  newOwnerMs: number
  rebalancedMs: number
  partitions: FailoverPartition[]
}

/** The saldo of each id as `api` answers it with every instance up: what every later read must show. */
async function knownSaldos(
  api: ApiProcess,
  ids: readonly string[],
  token: string,
): Promise<Map<string, number>> {
  const known = new Map<string, number>()
  for (const id of ids) {
    const res = await fetch(`${api.url}/saldo/${id}`, { headers: { authorization: `Bearer ${token}` } })
    const body = (await res.json()) as { saldo?: number }
    if (res.status !== 200 || typeof body.saldo !== 'number')
      throw new Error(`GET /saldo/${id} answered ${res.status} before the kill`)
    known.set(id, body.saldo)
  }
  return known
}

/**
 * One run: 3 MODE=partitioned instances settled over the keys, CLIENTS readers through the first;
 * the third is killed with SIGKILL, and the load goes on until the two survivors own every partition
 * and hold its keys, then TAIL_MS more.
 */
async function failoverRun(ctx: PhaseContext, spec: KeyedTopic, run: number): Promise<FailoverRun> {
  const apis = startLayout(ctx, spec.topic, INSTANCES, `partitioned-failover-${run}`, {
    OWNERSHIP_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
  })
  return withLayout(apis, async ([reader, survivor, victim]) => {
    if (!reader || !survivor || !victim) throw new Error(`${INSTANCES} instances are needed`)
    const [view] = await settledGroup(apis, spec.partitions, holdsItsKeys(spec))
    const killed = (view?.ownership.owners ?? []).filter((o) => o.url === victim.url).map((o) => o.partition)
    const ids = idsOn(new Set(Array.from({ length: spec.partitions }, (_, p) => p)), IDS, spec.partitions)
    const known = await knownSaldos(reader, ids, ctx.token)
    const partitionOf = (id: string) => murmur2Partition(Buffer.from(id), spec.partitions)
    const load = checkedReads({
      through: () => [reader],
      ids,
      saldoOf: (id) => known.get(id) ?? Number.NaN,
      partitionOf,
      headers: { authorization: `Bearer ${ctx.token}` },
      clients: CLIENTS,
    })
    try {
      await until(async () => load.counts.right > 1_000, 60_000, 'reads before the kill')
      const killedAt = performance.now()
      await victim.kill()
      // Polled finely: this is a figure, where settledGroup below only marks the end of the move.
      const newOwnerMs = await until(
        async () => {
          const owners = new Map((await reader.readiness()).ownership.owners.map((o) => [o.partition, o.url]))
          const moved = killed.every((p) => owners.has(p) && owners.get(p) !== victim.url)
          return moved && performance.now() - killedAt
        },
        120_000,
        `a new owner of partitions ${killed.join(', ')} in /ready`,
        20,
      )
      await settledGroup([reader, survivor], spec.partitions, holdsItsKeys(spec))
      const rebalancedMs = performance.now() - killedAt
      await Bun.sleep(TAIL_MS)
      const { reads, counts } = await load.stop()
      const misses = missesAfter(reads, killedAt)
      return {
        counts,
        firstMissMs: misses.firstMs,
        gapMs: misses.lastMs,
        newOwnerMs,
        rebalancedMs,
        partitions: Array.from({ length: spec.partitions }, (_, partition) => ({
          partition,
          ofKilled: killed.includes(partition),
          unavailable: reads.filter((r) => r.partition === partition && r.kind === 'unavailable').length,
          longestUnavailableRunMs: longestUnavailableRun(reads, partition),
        })),
      }
    } finally {
      await load.stop()
    }
  })
}

const longestRun = (partitions: readonly FailoverPartition[]) =>
  Math.max(0, ...partitions.map((p) => p.longestUnavailableRunMs))

/**
 * Issue 17's failover gap: for `ctx.runs` runs, kill -9 one of 3 partitioned instances (one standby
 * each) under a read load of known values through a survivor, and judge every answer.
 */
export async function measurePartitionedFailover(
  ctx: PhaseContext,
  spec: KeyedTopic,
): Promise<PartitionedFailover> {
  const runs: FailoverRun[] = []
  for (let run = 1; run <= ctx.runs; run++) {
    const r = await failoverRun(ctx, spec, run)
    runs.push(r)
    const c = r.counts
    ctx.say(
      `  partitioned failover run ${run}: non-200s from ${r.firstMissMs.toFixed(0)} to ${r.gapMs.toFixed(0)} ms after the kill, new owners in /ready after ${r.newOwnerMs.toFixed(0)} ms, settled after ${r.rebalancedMs.toFixed(0)} ms; ${c.right} right, ${c.wrong} wrong, ${c.notFound} 404, ${c.unavailable} 503, ${c.other} other, ${c.byStandby} by a standby`,
    )
  }
  const each = (figure: (r: FailoverRun) => number) => spread(runs.map(figure))
  return {
    instances: INSTANCES,
    clients: CLIENTS,
    ids: IDS,
    tailMs: TAIL_MS,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    answers: {
      right: each((r) => r.counts.right),
      wrong: each((r) => r.counts.wrong),
      notFound: each((r) => r.counts.notFound),
      unavailable: each((r) => r.counts.unavailable),
      other: each((r) => r.counts.other),
      byStandby: each((r) => r.counts.byStandby),
    },
    firstMissMs: each((r) => r.firstMissMs),
    gapMs: each((r) => r.gapMs),
    longestUnavailableRunMs: each((r) => longestRun(r.partitions.filter((p) => p.ofKilled))),
    longestUnavailableRunAnyMs: each((r) => longestRun(r.partitions)),
    newOwnerMs: each((r) => r.newOwnerMs),
    rebalancedMs: each((r) => r.rebalancedMs),
    partitions: runs.map((r) => r.partitions),
  }
}

/**
 * Issue 17's expectations of a failover with a caught-up standby: no wrong answer and no 404 for a
 * key that exists, 503s only for the killed instance's partitions; a standby answers until the group
 * notices the kill (its session timeout), and the move that follows takes well under a second.
 */
export function failoverTargets(f: PartitionedFailover): Target[] {
  const total = (s: { runs: number[] }) => s.runs.reduce((sum, n) => sum + n, 0)
  const ms = (s: { median: number }) => `${s.median.toLocaleString('en-US', { maximumFractionDigits: 0 })} ms`
  const gapGoal = f.sessionTimeoutMs + 1_000
  const elsewhere = f.partitions.flat().reduce((sum, p) => sum + (p.ofKilled ? 0 : p.unavailable), 0)
  return [
    {
      figure: 'partitioned kill -9: 200s with a wrong saldo, all runs',
      target: '0',
      measured: String(total(f.answers.wrong)),
      met: total(f.answers.wrong) === 0,
    },
    {
      figure: 'partitioned kill -9: 404s for an existing key, all runs',
      target: '0',
      measured: String(total(f.answers.notFound)),
      met: total(f.answers.notFound) === 0,
    },
    {
      figure: 'partitioned kill -9: 503s on partitions the killed instance did not own, all runs',
      target: '0 (503s only for its partitions)',
      measured: String(elsewhere),
      met: elsewhere === 0,
    },
    {
      figure: "partitioned kill -9: longest run of 503s on a killed instance's partition",
      target: 'well under a second (< 1,000 ms)',
      measured: ms(f.longestUnavailableRunMs),
      met: f.longestUnavailableRunMs.median < 1_000,
    },
    {
      figure: 'partitioned kill -9: gap, from the kill to the last non-200 read',
      target: `< ${gapGoal.toLocaleString('en-US')} ms (the session timeout, then a move well under a second)`,
      measured: ms(f.gapMs),
      met: f.gapMs.median < gapGoal,
    },
  ]
}
