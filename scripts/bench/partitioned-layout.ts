import type { ReadyAnswer } from '../../src/http/models.ts'
import { murmur2Partition } from '../../src/kafka/partitioning.ts'
import { type PhaseContext, startGroup } from './group.ts'
import type { ApiProcess } from './instance.ts'

export const STANDBY_REPLICAS = 1

/** A topic of the balances of ids 1..keys, one record each (BulkBalances), spread by murmur2. */
export interface KeyedTopic {
  topic: string
  partitions: number
  keys: number
}

/** How many of ids 1..keys murmur2 puts on each partition: what an instance holding them must show. */
function keysPerPartition({ keys, partitions }: KeyedTopic): number[] {
  const counts = Array.from({ length: partitions }, () => 0)
  for (let i = 1; i <= keys; i++) {
    const p = murmur2Partition(Buffer.from(String(i)), partitions)
    counts[p] = (counts[p] ?? 0) + 1
  }
  return counts
}

/** The partitions an instance holds: owned and standby. */
export const held = (v: ReadyAnswer) => new Set([...v.ownership.owned, ...v.ownership.standbys])

/** An instance of `spec` holds exactly the keys of its owned and standby partitions, each of them read. */
export function holdsItsKeys(spec: KeyedTopic): (v: ReadyAnswer) => boolean {
  const counts = keysPerPartition(spec)
  return (v) =>
    v.keys === [...held(v)].reduce((sum, p) => sum + (counts[p] ?? 0), 0) &&
    v.partitions.length === held(v).size
}

/** `count` MODE=partitioned instances of a group of their own, started together on `topic`. */
export function startLayout(
  ctx: PhaseContext,
  topic: string,
  count: number,
  name: string,
  settings: Record<string, string> = {},
): ApiProcess[] {
  const labels = Array.from({ length: count }, (_, i) => String(i + 1))
  return startGroup(ctx, topic, name, labels, {
    MODE: 'partitioned',
    STANDBY_REPLICAS: String(STANDBY_REPLICAS),
    ...settings,
  })
}

/** Runs `measure` on a started layout, then stops every instance of it, whatever happened. */
export async function withLayout<T>(
  apis: ApiProcess[],
  measure: (apis: ApiProcess[]) => Promise<T>,
): Promise<T> {
  try {
    return await measure(apis)
  } finally {
    await Promise.all(apis.map((api) => api.stop()))
  }
}
