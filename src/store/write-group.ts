import type { Balance } from '../balance.ts'
import type { MemoryStore } from './memory-store.ts'
import { type Change, changeKey } from './store.ts'

/** A row to write: a client's balance and its offset (undefined: deleted), and the partition it came from. */
export interface SnapshotRow {
  readonly partition: number
  readonly clienteId: string
  readonly balance: Balance | undefined
  readonly offset: number
}

/** One transaction of the snapshot: rows, then the next offset of each partition they cover. */
export interface SnapshotWrite {
  /** Each key once: the rows of a write may then be written in any order. */
  rows(): Iterable<SnapshotRow>
  checkpoints(): ReadonlyMap<number, number>
}

/**
 * Batches to write to the snapshot in one transaction, from every partition that is replaying: the
 * keys they touched and the next offset of each partition. One transaction per batch in the tail;
 * during the replay, several, so that a page of the B-tree is written once per group rather than once
 * per batch. The keys set are the ones memory's table marks (a byte per entry): the values are read
 * when the group is written, from a state that took exactly its batches. Only deletions are kept here,
 * as keys (holding every change cost up to ~140 MiB more peak RSS, and a Map of every key 8% of the
 * replay's CPU).
 */
export class WriteGroup implements SnapshotWrite {
  readonly #memory: MemoryStore
  readonly #deleted = new Set<string>()
  readonly #checkpoints = new Map<number, number>()
  #changes = 0
  #startedAt = 0

  /** Starts `memory`'s marks: from now on it remembers the keys it sets. */
  constructor(memory: MemoryStore) {
    this.#memory = memory
    memory.marks.trackChanges()
  }

  add(partition: number, changes: readonly Change[], nextOffset: number, now = performance.now()): void {
    if (this.isEmpty) this.#startedAt = now
    for (const change of changes) if (change.kind === 'delete') this.#deleted.add(change.clienteId)
    this.#changes += changes.length
    this.#checkpoints.set(partition, nextOffset)
  }

  /** Changes added, before keeping the last of each key. */
  get changes(): number {
    return this.#changes
  }

  /** When the first batch was added (`performance.now()`). */
  get startedAt(): number {
    return this.#startedAt
  }

  get isEmpty(): boolean {
    return this.#checkpoints.size === 0
  }

  checkpoints(): ReadonlyMap<number, number> {
    return this.#checkpoints
  }

  /**
   * Each key set, in key order (the B-tree is then walked in order rather than at random: replaying a
   * million random keys in batches of 133k, this wrote 1.8x as fast), then the keys deleted and not set
   * again. A key's partition is memory's: the one of the record that set it.
   */
  *rows(): Generator<SnapshotRow> {
    const memory = this.#memory
    for (const clienteId of memory.marks.markedKeys()) {
      const row = memory.row(clienteId) as NonNullable<ReturnType<MemoryStore['row']>>
      yield { partition: row.partition, clienteId, balance: row.balance, offset: row.offset }
    }
    for (const clienteId of this.#deleted) {
      if (memory.get(clienteId) === undefined)
        yield { partition: -1, clienteId, balance: undefined, offset: -1 }
    }
  }

  /** The group is on disk: memory's marks start again. */
  written(): void {
    this.#memory.marks.clearMarks()
  }
}

/** One batch of the tail on its own, written before memory takes it: each key's last value in it. */
export function batchWrite(
  partition: number,
  changes: readonly Change[],
  nextOffset: number,
  offsets: readonly number[],
): SnapshotWrite {
  return {
    *rows() {
      const last = new Map<string, SnapshotRow>()
      for (let i = 0; i < changes.length; i++) {
        const change = changes[i] as Change
        const clienteId = changeKey(change)
        const put = change.kind === 'put'
        last.set(clienteId, {
          partition,
          clienteId,
          balance: put ? change.balance : undefined,
          offset: put ? (offsets[i] as number) : -1,
        })
      }
      yield* last.values()
    },
    checkpoints: () => new Map([[partition, nextOffset]]),
  }
}
