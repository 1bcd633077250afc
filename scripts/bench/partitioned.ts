import type { ReadyAnswer } from '../../src/http/models.ts'
import { type PhaseContext, settledGroup } from './group.ts'
import { CONNECTIONS, loadOf, type WrkRun, wrk } from './http-load.ts'
import { type ApiProcess, settledRss } from './instance.ts'
import { produceBalances } from './kafka-tools.ts'
import { idsOn } from './movements.ts'
import { failoverTargets, measurePartitionedFailover } from './partitioned-failover.ts'
import {
  held,
  holdsItsKeys,
  type KeyedTopic,
  STANDBY_REPLICAS,
  startLayout,
  withLayout,
} from './partitioned-layout.ts'
import type { Partitioned, PartitionedLayout, Target } from './report.ts'
import { ratios } from './stats.ts'

const MB = 1024 * 1024

/** The id whose GETs the instance answers itself, and one it must ask another instance for. */
function localAndForwarded(view: ReadyAnswer, partitions: number): { local: string; forwarded: string } {
  const local = held(view)
  const away = new Set(Array.from({ length: partitions }, (_, p) => p).filter((p) => !local.has(p)))
  const [localId] = idsOn(local, 1, partitions)
  const [forwardedId] = idsOn(away, 1, partitions)
  if (!localId || !forwardedId) throw new Error('every partition is local: no forwarded read to measure')
  return { local: localId, forwarded: forwardedId }
}

/** `bun run bench --only partitioned`: its own topic of `keys` balances, and an empty one for the baseline RSS. */
export async function measurePartitionedAlone(ctx: PhaseContext, keys: number): Promise<Partitioned> {
  const spec = { topic: await ctx.topics.create('partitioned-6p', 6), partitions: 6, keys }
  const empty = await ctx.topics.create('partitioned-empty', spec.partitions)
  await produceBalances(ctx.root, ctx.bootstrap, spec.topic, keys, keys)
  const emptyRss = await withLayout(startLayout(ctx, empty, 1, 'partitioned-empty'), async (apis) => {
    await settledGroup(apis, spec.partitions)
    return settledRss(apis[0]?.pid ?? 0)
  })
  return measurePartitioned(ctx, spec, emptyRss / MB)
}

/**
 * The same keys on 1, 2 and 3 MODE=partitioned instances (each layout started afresh): keys held and
 * settled RSS per instance; then, on 3, GET of a local key vs a key another instance answers.
 */
export async function measurePartitioned(
  ctx: PhaseContext,
  spec: KeyedTopic,
  emptyRssMB: number,
): Promise<Partitioned> {
  const layouts: PartitionedLayout[] = []
  let get: Partitioned['get'] | undefined
  for (const count of [1, 2, 3]) {
    const apis = startLayout(ctx, spec.topic, count, `partitioned-${count}`)
    get = await withLayout(apis, async () => {
      const views = await settledGroup(apis, spec.partitions, holdsItsKeys(spec))
      const rss = await Promise.all(apis.map((a) => settledRss(a.pid)))
      layouts.push({
        instances: count,
        keysHeld: views.map((v) => v.keys),
        settledRssMB: rss.map((b) => b / MB),
      })
      ctx.say(
        `  partitioned, ${count} instance(s): keys ${views.map((v) => v.keys).join(' / ')}, RSS ${rss.map((b) => (b / MB).toFixed(0)).join(' / ')} MiB`,
      )
      const [first] = apis
      const [view] = views
      return count === 3 && first && view ? await measureGets(ctx, first, view, spec) : get
    })
  }
  if (!get) throw new Error('no partitioned GET figure was measured')
  ctx.say('  partitioned failover: kill -9 of one of 3 instances under reads through a survivor')
  const failover = await measurePartitionedFailover(ctx, spec)
  return {
    keys: spec.keys,
    partitions: spec.partitions,
    standbyReplicas: STANDBY_REPLICAS,
    emptyRssMB,
    layouts,
    get,
    failover,
  }
}

async function measureGets(
  ctx: PhaseContext,
  api: ApiProcess,
  view: ReadyAnswer,
  { keys, partitions }: KeyedTopic,
): Promise<Partitioned['get']> {
  const ids = localAndForwarded(view, partitions)
  const target = { url: api.url, token: ctx.token }
  const servedBy = async (id: string) =>
    (
      await fetch(`${api.url}/saldo/${id}`, { headers: { authorization: `Bearer ${ctx.token}` } })
    ).headers.get('x-saldo-served-by')
  ctx.say(
    `  partitioned GET: id ${ids.local} served by ${await servedBy(ids.local)}, id ${ids.forwarded} by ${await servedBy(ids.forwarded)}`,
  )
  const local: WrkRun[] = []
  const forwarded: WrkRun[] = []
  for (let run = 1; run <= ctx.runs; run++) {
    local.push(await wrk(target, keys, ctx.seconds, 0, ids.local))
    forwarded.push(await wrk(target, keys, ctx.seconds, 0, ids.forwarded))
  }
  const l = loadOf(local)
  const f = loadOf(forwarded)
  return {
    instances: 3,
    seconds: ctx.seconds,
    connections: CONNECTIONS,
    local: l,
    forwarded: f,
    forwardedVsLocal: ratios(f.requestsPerSecond.runs, l.requestsPerSecond.runs),
    forwardedP99VsLocal: ratios(f.p99Ms.runs, l.p99Ms.runs),
  }
}

/**
 * Issue 17's goal: each of N instances holds ≈ (1 + standbys) / N of the keys, and its RSS above an
 * empty instance's shrinks with it (15% allowed for the allocator: a share of the heap is not per key).
 */
export function partitionedTargets(p: Partitioned): Target[] {
  const share = (instances: number) => Math.min(1, (1 + p.standbyReplicas) / instances)
  const keys = p.layouts
    .filter((l) => l.instances > 1)
    .map((l) => {
      const goal = share(l.instances)
      const worst = Math.max(...l.keysHeld.map((k) => Math.abs(k / p.keys - goal)))
      return {
        figure: `keys held per instance, ${l.instances} partitioned instances`,
        target: `≈ ${goal.toFixed(2)} of the keys (owned + ${p.standbyReplicas} standby)`,
        measured: l.keysHeld.map((k) => (k / p.keys).toFixed(2)).join(' / '),
        met: worst <= goal * 0.1,
      }
    })
  const one = p.layouts.find((l) => l.instances === 1)?.settledRssMB[0] ?? Number.NaN
  const three = p.layouts.find((l) => l.instances === 3)?.settledRssMB ?? []
  const ratios = three.map((mb) => (mb - p.emptyRssMB) / (one - p.emptyRssMB))
  const goal = share(3) * 1.15
  return [
    ...keys,
    {
      figure: 'RSS above an empty instance, per instance of 3 ÷ of 1',
      target: `≤ ${goal.toFixed(2)} x (${share(3).toFixed(2)} of the keys, +15%)`,
      measured: ratios.map((r) => `${r.toFixed(2)} x`).join(' / '),
      met: ratios.length > 0 && Math.max(...ratios) <= goal,
    },
    ...failoverTargets(p.failover),
  ]
}
