import { describe, expect, it } from 'bun:test'
import { ApplyNumbers } from '../../src/kafka/apply-numbers.ts'
import { type FetchedBatch, PartitionApplier } from '../../src/kafka/batch-applier.ts'
import { murmur2Partition } from '../../src/kafka/partitioning.ts'
import { RejectLog } from '../../src/kafka/reject-log.ts'
import { MemoryStore } from '../../src/store/memory-store.ts'
import type { Change } from '../../src/store/store.ts'
import { TombstoneOutcomes } from '../../src/store/tombstone-outcomes.ts'
import { captureLog } from '../helpers.ts'

const TS = '2025-10-14T10:30:45'
const value = (id: string, saldo: number) => JSON.stringify({ cliente_id: id, saldo, timestamp: TS })

/** A record as kafkajs hands it over: offsets as text, key and value as bytes, null for none. */
const record = (offset: number, key: string | null, text: string | null) => ({
  offset: String(offset),
  key: key === null ? null : Buffer.from(key),
  value: text === null ? null : Buffer.from(text),
})

/**
 * The same records as the patched kafkajs hands them over: key and value left in one fetched buffer
 * (between other bytes), `key` and `value` the slices it would make on first use.
 */
function inPlace(records: ReadonlyArray<ReturnType<typeof record>>): FetchedBatch['messages'] {
  const separator = Buffer.from('"}9')
  const parts: Buffer[] = [separator]
  let at = separator.length
  const placed = records.map(({ offset, key, value }) => {
    const keyStart = at
    const valueStart = keyStart + (key?.length ?? 0) + separator.length
    parts.push(key ?? Buffer.alloc(0), separator, value ?? Buffer.alloc(0), separator)
    at = valueStart + (value?.length ?? 0) + separator.length
    return {
      offset,
      key,
      value,
      keyStart,
      keyLength: key?.length ?? -1,
      valueStart,
      valueLength: value?.length ?? -1,
    }
  })
  const bytes = Buffer.concat(parts)
  return placed.map((placement) => ({ ...placement, bytes }))
}

function batch(
  partition: number,
  messages: FetchedBatch['messages'],
  { highWatermark = 1_000, lastOffset = Number(messages.at(-1)?.offset ?? 0) } = {},
): FetchedBatch {
  return {
    topic: 'contas',
    partition,
    highWatermark: String(highWatermark),
    messages,
    lastOffset: () => String(lastOffset),
  }
}

/** The first ids that murmur2 puts on `partition` of `partitions`. */
function idsOn(partition: number, partitions: number, count: number): string[] {
  const ids: string[] = []
  for (let i = 0; ids.length < count; i++) {
    if (murmur2Partition(Buffer.from(`c${i}`), partitions) === partition) ids.push(`c${i}`)
  }
  return ids
}

/** One partition's applier over a memory store, with everything it tells recorded. */
function setup({ partition = 0, partitions = 1, foreign = 'accept' as 'accept' | 'reject' } = {}) {
  const store = new MemoryStore()
  const numbers = new ApplyNumbers({ store, config: { FETCH_MAX_WAIT_MS: 100, FOREIGN_PARTITION: foreign } })
  const { counts: stats, watermarks, progress } = numbers
  progress.begin(new Map([[partition, 4]]), new Map([[partition, 0]]))
  const { log, lines } = captureLog()
  const applied: Array<{ changes: readonly Change[]; nextOffset: number; offsets: readonly number[] }> = []
  const replays: string[] = []
  const applier = new PartitionApplier({
    partition,
    partitions,
    store,
    numbers,
    outcomes: new TombstoneOutcomes(),
    rejects: new RejectLog(log),
    log,
    config: { FOREIGN_PARTITION: foreign },
    onApplied: (_partition, changes, nextOffset, offsets) => applied.push({ changes, nextOffset, offsets }),
    replayAgain: (what) => {
      replays.push(what)
      return new Error(what)
    },
  })
  return { applier, store, stats, watermarks, progress, lines, applied, replays }
}

describe('PartitionApplier', () => {
  it('applies puts and tombstones in offset order, moves the position past the batch and counts them', () => {
    const { applier, store, stats, watermarks, progress, applied } = setup()
    applier.apply(
      batch(
        0,
        [record(0, 'a', value('a', 1)), record(1, 'b', value('b', 2)), record(3, 'a', value('a', 3))],
        {
          highWatermark: 6,
          lastOffset: 3,
        },
      ),
    )
    applier.apply(batch(0, [record(4, 'b', null)], { highWatermark: 6, lastOffset: 5 }))

    expect(store.get('a')).toEqual({ cliente_id: 'a', saldo: 3, timestamp: TS })
    expect(store.get('b')).toBeUndefined()
    expect(applier.position).toBe(6)
    expect([stats.applied, stats.tombstones, stats.rejectedTotal]).toEqual([3, 1, 0])
    expect(watermarks.entries().get(0)).toBe(6)
    expect(progress.ready).toBe(true)
    expect(applied.map(({ nextOffset, offsets }) => [nextOffset, offsets])).toEqual([
      [4, [0, 1, 3]],
      [6, [4]],
    ])
    expect(applied[1]?.changes).toEqual([{ kind: 'delete', clienteId: 'b' }])
  })

  it('counts each rejected record by reason, logs its offset and keeps the previous value', () => {
    const { applier, store, stats, lines, applied } = setup()
    applier.apply(batch(0, [record(0, 'a', value('a', 1))]))
    applier.apply(
      batch(0, [
        record(1, 'a', '{not json'),
        record(2, null, value('a', 9)),
        record(3, 'a', value('b', 9)),
        record(4, 'a', JSON.stringify({ cliente_id: 'a', saldo: 1, timestamp: 'yesterday' })),
      ]),
    )

    expect(store.get('a')?.saldo).toBe(1)
    expect(applier.position).toBe(5)
    expect(stats.applied).toBe(1)
    expect(stats.rejected).toMatchObject({
      value_not_json: 1,
      key_missing: 1,
      key_mismatch: 1,
      timestamp_invalid: 1,
    })
    expect(stats.rejectedTotal).toBe(4)
    const logged = lines.filter((l) => l.msg === 'rejected record; the key keeps its previous value')
    expect(logged.map((l) => [l.offset, l.reason])).toEqual([
      [1, 'value_not_json'],
      [2, 'key_missing'],
      [3, 'key_mismatch'],
      [4, 'timestamp_invalid'],
    ])
    // A batch of rejects still moves the position, and listeners hear of it.
    expect(applied.at(-1)).toMatchObject({ changes: [], nextOffset: 5 })
  })

  it('applies records left in the fetched bytes exactly as it applies them one Buffer each', () => {
    const records = [
      record(0, 'a', value('a', 1)),
      record(1, 'b', value('b', 2.5)),
      record(2, 'a', '{not json'),
      record(3, 'c', value('c', -0.01)),
      record(4, 'ção', value('ção', 7)),
      record(5, null, value('a', 9)),
      record(6, 'b', null),
      record(7, 'a', value('b', 1)),
      record(8, 'd', `${value('d', 4)} `),
    ]
    const plain = setup({ partitions: 2 })
    const placed = setup({ partitions: 2 })
    plain.applier.apply(batch(0, records))
    placed.applier.apply(batch(0, inPlace(records)))
    expect(placed.applied).toEqual(plain.applied)
    for (const id of ['a', 'b', 'c', 'ção', 'd']) expect(placed.store.row(id)).toEqual(plain.store.row(id))
    expect(placed.stats.rejectedTotal).toBe(3)
    const untimed = (lines: Array<Record<string, unknown>>) => lines.map(({ time: _, ...line }) => line)
    expect(untimed(placed.lines)).toEqual(untimed(plain.lines))
    expect(placed.store.size).toBe(4)
  })

  it('skips what a repeated fetch returns below the position, so no older value comes back', () => {
    const { applier, store, stats } = setup()
    applier.apply(batch(0, [record(0, 'a', value('a', 1)), record(1, 'a', value('a', 2))]))
    applier.apply(
      batch(0, [record(0, 'a', value('a', 1)), record(1, 'a', value('a', 2)), record(2, 'b', value('b', 5))]),
    )

    expect(store.get('a')?.saldo).toBe(2)
    expect(store.get('b')?.saldo).toBe(5)
    expect(stats.applied).toBe(3)
  })

  it('counts a key on another partition than murmur2 gives, warns once, and applies it by default', () => {
    const [home, other] = [idsOn(0, 2, 2), idsOn(1, 2, 2)]
    const { applier, store, stats, lines } = setup({ partition: 0, partitions: 2 })
    applier.apply(
      batch(0, [
        record(0, home[0] as string, value(home[0] as string, 1)),
        record(1, other[0] as string, value(other[0] as string, 2)),
        record(2, other[1] as string, null),
      ]),
    )

    expect(stats.foreignPartition).toBe(2)
    expect(stats.foreignExample).toEqual({ key: other[0] as string, partition: 0, expected: 1 })
    expect(store.get(other[0] as string)?.saldo).toBe(2)
    expect([stats.applied, stats.tombstones]).toEqual([2, 1])
    const warnings = lines.filter((l) => String(l.msg).startsWith('records were read on another partition'))
    expect(warnings).toHaveLength(1)
    expect(stats.foreignWarning('accept')).toContain('(2 since start')
  })

  it('rejects a key on another partition with FOREIGN_PARTITION=reject', () => {
    const other = idsOn(1, 2, 1)[0] as string
    const { applier, store, stats } = setup({ partition: 0, partitions: 2, foreign: 'reject' })
    applier.apply(batch(0, [record(0, other, value(other, 2))]))

    expect(store.get(other)).toBeUndefined()
    expect(stats.rejected.foreign_partition).toBe(1)
    expect(stats.foreignPartition).toBe(1)
    expect(applier.position).toBe(1)
  })

  it('asks for a new replay, applying nothing, when the end offset falls behind the position', () => {
    const { applier, store, replays } = setup()
    applier.apply(batch(0, [record(0, 'a', value('a', 1)), record(1, 'b', value('b', 1))]))

    expect(() => applier.apply(batch(0, [record(0, 'c', value('c', 1))], { highWatermark: 1 }))).toThrow(
      'partition 0 ends at 1, behind the 2 already applied: the topic was truncated or recreated',
    )
    expect(replays).toHaveLength(1)
    expect(store.get('c')).toBeUndefined()
    expect(applier.position).toBe(2)
  })

  it('leaves position and counters as they were when the store cannot take the batch', () => {
    const { applier, store, stats, applied } = setup()
    store.apply = () => {
      throw new Error('cannot write the local state: database or disk is full')
    }
    expect(() => applier.apply(batch(0, [record(0, 'a', value('a', 1))]))).toThrow('disk is full')
    expect([applier.position, stats.applied, applied.length]).toEqual([0, 0, 0])
  })

  it('gives a partition its position at the start, and moves it past a batch of transaction markers', () => {
    const { applier, store, watermarks, applied } = setup()
    applier.skipTo(0)
    expect(store.positions().get(0)).toBe(0)
    // Going nowhere new is nothing to tell.
    applier.skipTo(0)
    expect(applied).toHaveLength(1)

    applier.skipTo(3, 3)
    expect([applier.position, watermarks.entries().get(0)]).toEqual([3, 3])
    expect(applied.at(-1)).toEqual({ changes: [], nextOffset: 3, offsets: [] })
  })
})
