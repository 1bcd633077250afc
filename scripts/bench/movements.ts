import { randomUUID } from 'node:crypto'
import { murmur2Partition } from '../../src/kafka/partitioning.ts'
import { type PhaseContext, settledGroup, startGroup } from './group.ts'
import type { ApiProcess } from './instance.ts'
import type { Movements, Target } from './report.ts'
import { closedLoop, type LoopRun, loopLoad } from './request-loop.ts'
import { ratios } from './stats.ts'

const PARTITIONS = 6
const KEYS = 200
/** Enough to keep every owned partition's transactions busy, few enough for 2 shared cores. */
const CLIENTS = 16

/** Ids 1.. that murmur2 puts on `partitions`, `count` of them. */
export function idsOn(partitions: ReadonlySet<number>, count: number, of: number): string[] {
  const ids: string[] = []
  for (let i = 1; ids.length < count; i++) {
    const id = String(i)
    if (partitions.has(murmur2Partition(Buffer.from(id), of))) ids.push(id)
  }
  return ids
}

/**
 * Two replica-mode instances of one GROUP split a 6-partition topic's ownership; movements on ids A
 * owns are sent to A (the owner), then to B (which forwards each to A), then PUTs to A.
 */
export async function measureMovements(ctx: PhaseContext): Promise<Movements> {
  const topic = await ctx.topics.create('movements-6p', PARTITIONS)
  const apis = startGroup(ctx, topic, 'movements', ['owner', 'non-owner'])
  try {
    const [a, b] = apis as [ApiProcess, ApiProcess]
    const views = await settledGroup(apis, PARTITIONS, (v) => v.ownership.owned.length > 0)
    const owned = new Set(views[0]?.ownership.owned)
    ctx.say(`  movements: ${a.url} owns partitions ${[...owned].join(', ')}`)
    const ids = idsOn(owned, KEYS, PARTITIONS)
    const pick = () => ids[Math.floor(Math.random() * ids.length)] as string
    const headers = { authorization: `Bearer ${ctx.token}`, 'content-type': 'application/json' }
    const movement = (through: ApiProcess) => () =>
      fetch(`${through.url}/saldo/${pick()}/movimentos`, {
        method: 'POST',
        headers: { ...headers, 'idempotency-key': randomUUID() },
        body: JSON.stringify({ valor: 1, descricao: 'bench' }),
      })
    const put = () =>
      fetch(`${a.url}/saldo/${pick()}`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ saldo: 100, timestamp: '2026-12-02T20:00:00' }),
      })
    // Not counted: the first transaction of each partition's producer, the first forwarded connection.
    for (const send of [movement(a), movement(b), put]) await closedLoop(CLIENTS, 1, send)
    const loads = { owner: [] as LoopRun[], forwarded: [] as LoopRun[], put: [] as LoopRun[] }
    for (let run = 1; run <= ctx.runs; run++) {
      loads.owner.push(await closedLoop(CLIENTS, ctx.seconds, movement(a)))
      loads.forwarded.push(await closedLoop(CLIENTS, ctx.seconds, movement(b)))
      loads.put.push(await closedLoop(CLIENTS, ctx.seconds, put))
      const perSecond = (r: LoopRun[]) => ((r.at(-1)?.ok ?? 0) / (r.at(-1)?.seconds ?? 1)).toFixed(0)
      ctx.say(
        `  movements run ${run}: owner ${perSecond(loads.owner)}/s, forwarded ${perSecond(loads.forwarded)}/s, PUT ${perSecond(loads.put)}/s`,
      )
    }
    const owner = loopLoad(loads.owner)
    const forwarded = loopLoad(loads.forwarded)
    return {
      partitions: PARTITIONS,
      keys: KEYS,
      clients: CLIENTS,
      seconds: ctx.seconds,
      owner,
      forwarded,
      forwardedVsOwner: ratios(forwarded.requestsPerSecond.runs, owner.requestsPerSecond.runs),
      forwardedP99VsOwner: ratios(forwarded.p99Ms.runs, owner.p99Ms.runs),
      putOwner: loopLoad(loads.put),
    }
  } finally {
    await Promise.all(apis.map((api) => api.stop()))
  }
}

/** Issue 16 names the figures but sets no number: shown without a verdict, errors must be none. */
export function movementTargets(m: Movements): Target[] {
  const errors = m.owner.errors + m.forwarded.errors
  return [
    {
      figure: 'movements answered without error, through the owner and forwarded',
      target: 'every one',
      measured: `${errors} error(s)`,
      met: errors === 0,
    },
  ]
}
