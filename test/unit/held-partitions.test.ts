import { describe, expect, it } from 'bun:test'
import type { Kafka } from 'kafkajs'
import { ApplyNumbers } from '../../src/kafka/apply-numbers.ts'
import type { PartitionApplier } from '../../src/kafka/batch-applier.ts'
import { HeldPartitions } from '../../src/kafka/held-partitions.ts'
import { MemoryStore } from '../../src/store/memory-store.ts'
import { captureLog, waitFor } from '../helpers.ts'

const PARTITIONS = [0, 1]
const END = 5

/**
 * MODE=partitioned's reading plan over a memory store and a fake admin whose every partition ends at
 * END; `hold()` keeps the admin's answer back until `release()`, as a slow broker would.
 */
function setup({ failures = 0 } = {}) {
  const store = new MemoryStore()
  const numbers = new ApplyNumbers({ store, config: { FETCH_MAX_WAIT_MS: 100, FOREIGN_PARTITION: 'accept' } })
  let gate = Promise.resolve()
  let release = () => {}
  let reads = 0
  const kafka = {
    admin: () => ({
      connect: async () => {},
      disconnect: async () => {},
      fetchTopicOffsets: async () => {
        await gate
        if (++reads <= failures) throw new Error('the broker is unreachable')
        return PARTITIONS.map((partition) => ({ partition, low: '0', high: String(END), offset: '0' }))
      },
    }),
  } as unknown as Kafka
  const applier = { skipTo: () => {} } as unknown as PartitionApplier
  let assigned: (held: ReadonlySet<number>) => void = () => {}
  const held = new HeldPartitions(
    {
      kafka,
      topic: 'contas',
      store,
      numbers,
      log: captureLog().log,
      applier: () => applier,
      session: () => undefined,
      dropped: () => {},
      retryMs: 20,
    },
    { onHeld: (listener) => (assigned = listener) },
  )
  const { progress } = numbers
  /** Waits until the replay is towards exactly `partitions`. */
  const holding = (partitions: number[]) =>
    waitFor(
      () =>
        progress
          .snapshot()
          .partitions.map((p) => p.partition)
          .join() === partitions.join(),
      {
        timeoutMs: 2_000,
        what: `the replay to hold [${partitions}]`,
      },
    )
  return {
    progress,
    /** What the materializer does with its boot plan: begins the replay of the partitions held now. */
    plan() {
      const from = new Map(PARTITIONS.filter((p) => held.holds(p)).map((p) => [p, 0]))
      progress.begin(new Map([...from.keys()].map((p) => [p, END])), from)
      held.use(new Map([...from.keys()].map((p) => [p, applier])), PARTITIONS.length)
    },
    assign: (partitions: number[]) => assigned(new Set(partitions)),
    holding,
    /** Once the replay holds `partitions`: not ready until they are applied to their end, then ready. */
    async replays(partitions: number[]) {
      await holding(partitions)
      expect(progress.ready).toBe(false)
      for (const partition of partitions) progress.advance(partition, END)
      expect(progress.ready).toBe(true)
    },
    hold() {
      gate = new Promise((resolve) => {
        release = resolve
      })
    },
    release: () => release(),
    /** Admin requests for the end offsets so far. */
    reads: () => reads,
  }
}

describe('HeldPartitions (MODE=partitioned)', () => {
  it('is not ready before its first assignment, and ready once it is given no partition at all', async () => {
    const { progress, plan, assign } = setup()
    plan()
    expect(progress.ready).toBe(false)
    assign([])
    await waitFor(() => progress.ready, { timeoutMs: 2_000, what: 'ready with no partition' })
    expect(progress.snapshot().partitions).toEqual([])
  })

  it('is ready at once when its empty assignment came before the boot plan', () => {
    const { progress, plan, assign } = setup()
    assign([])
    expect(progress.ready).toBe(false)
    plan()
    expect(progress.ready).toBe(true)
  })

  it('stays ready when it loses every partition, and is not ready again from the moment it gains one until it is caught up', async () => {
    const { progress, plan, assign, holding, replays, hold, release } = setup()
    plan()
    assign([0])
    await replays([0])
    assign([])
    await holding([])
    expect(progress.ready).toBe(true)
    hold()
    assign([1])
    expect(progress.ready).toBe(false)
    release()
    await replays([1])
  })

  it('does not turn ready between dropping a partition it replays and adding the one gained instead', async () => {
    const { progress, plan, assign, holding, replays, hold, release } = setup()
    plan()
    assign([0])
    await holding([0])
    hold()
    assign([1])
    await holding([])
    expect(progress.ready).toBe(false)
    release()
    await replays([1])
  })

  it('tries again when the end offsets of a gained partition cannot be read, not ready meanwhile', async () => {
    const { progress, plan, assign, replays, reads } = setup({ failures: 2 })
    plan()
    assign([0])
    expect(progress.ready).toBe(false)
    await replays([0])
    expect(reads()).toBe(3)
  })
})
