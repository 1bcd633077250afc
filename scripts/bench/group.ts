import type { ReadyAnswer } from '../../src/http/models.ts'
import { until } from './cluster.ts'
import type { ApiProcess } from './instance.ts'

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
