import { randomUUID } from 'node:crypto'
import type { ReadyAnswer } from '../../src/http/models.ts'
import { until } from './cluster.ts'
import { ApiProcess } from './instance.ts'
import type { BenchTopics } from './kafka-tools.ts'

/** What the movements and partitioned phases need of the bench's run. */
export interface PhaseContext {
  root: string
  bin: string
  bootstrap: string
  workDir: string
  topics: BenchTopics
  token: string
  runs: number
  seconds: number
  say: (line: string) => void
}

/**
 * Instances `${name}-${label}` on `topic`, in an ownership group of their own (a GROUP per call), with
 * writes enabled and a movements topic of their own that the bench deletes with its topics.
 */
export function startGroup(
  ctx: PhaseContext,
  topic: string,
  name: string,
  labels: readonly string[],
  settings: Record<string, string> = {},
): ApiProcess[] {
  const env = {
    SALDO_API_TOKEN: ctx.token,
    MOVEMENTS_TOPIC: ctx.topics.adopt(`${name}-movimentos`),
    GROUP: `saldo-bench-${name}-${randomUUID().slice(0, 8)}`,
    ...settings,
  }
  return labels.map(
    (label) =>
      new ApiProcess({
        bin: ctx.bin,
        bootstrap: ctx.bootstrap,
        topic,
        stateDir: 'memory',
        logDir: ctx.workDir,
        name: `${name}-${label}`,
        env,
      }),
  )
}

/**
 * Waits until every instance is ready in one generation of the ownership group whose map gives all
 * `partitions` to exactly these instances, and `settled` holds for each; resolves with their /ready.
 */
export function settledGroup(
  apis: readonly ApiProcess[],
  partitions: number,
  settled: (ready: ReadyAnswer) => boolean = () => true,
  timeoutMs = 180_000,
): Promise<ReadyAnswer[]> {
  const urls = apis.map((a) => a.url).sort()
  return until(
    async () => {
      const views = await Promise.all(apis.map((a) => a.readiness()))
      const generation = views[0]?.ownership.generation
      if (views.some((v) => !v.ready || v.ownership.generation !== generation || !settled(v))) return
      const owners = views[0]?.ownership.owners ?? []
      const named = [...new Set(owners.map((o) => o.url))].sort()
      return owners.length === partitions && named.join() === urls.join() ? views : undefined
    },
    timeoutMs,
    `${apis.length} instance(s) to settle in one generation over ${partitions} partitions`,
  )
}
