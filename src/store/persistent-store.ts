import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Balance } from '../balance.ts'
import type { Logger } from '../log.ts'
import type { BalanceAnswer } from './balance-table.ts'
import { StateDirError } from './errors.ts'
import { MemoryStore } from './memory-store.ts'
import { type SlicedWrite, SqliteSnapshot } from './sqlite-snapshot.ts'
import { StateLock } from './state-lock.ts'
import type { BalanceStore, Change, StoreOrigin } from './store.ts'
import { batchWrite, WriteGroup } from './write-group.ts'

export const SNAPSHOT_FILE = 'saldo.db'

/** When a group of replayed batches is written: once it holds `rows` changes, or is `ms` old. */
export interface GroupLimits {
  rows: number
  ms: number
  /** Rows the group left at readiness writes per turn of the event loop (see `endReplay`). */
  sliceRows: number
}

/**
 * A batch of the replay is ~11k records (1 MiB fetches); over 1M keys, a transaction of that many
 * random keys rewrites most leaf pages of the table, so a group of many batches writes each page about
 * once instead of once per batch (into an empty table the whole replay is one group: see `#due`). A
 * group costs no memory of its own (memory's table marks the keys it set, a byte per key), so the cap
 * is the write's size; the age bounds what a crash loses (it is read again from Kafka). 1M records or 5 s instead of 250k or 2 s: the replay's CPU with a STATE_DIR fell
 * from 5.2-5.8 s to 4.1-4.7 s (memory alone 3.4-4.4 s) on 1M records over 100k keys, 3 partitions.
 */
export const REPLAY_GROUP: GroupLimits = { rows: 1_000_000, ms: 5000, sliceRows: 16_384 }

/** How often a group that could not be written after the replay is tried again, with no batch to carry it. */
const RETRY_MS = 1000

/** What a write of the snapshot was for: a partition's batch, or the snapshot as a whole. */
type WriteScope = number | typeof SNAPSHOT
const SNAPSHOT = 'snapshot'

/**
 * The in-memory store (still the query path) with a write-through journal, so that a restart loads the
 * snapshot in STATE_DIR and replays only what came after it. In the tail, every batch is written
 * before memory takes it (a write answers once it is on disk). During the replay, batches are grouped:
 * memory takes each at once, and a group is written in one transaction, rows with their checkpoints,
 * when it is big or old enough, and the last one from the end of the replay on, in the background
 * (`endReplay`). A crash loses only whole groups, read again from Kafka; reads answer 503 until the
 * replay ends anyway.
 */
export class PersistentStore implements BalanceStore {
  readonly #memory: MemoryStore
  readonly #journal: SqliteSnapshot
  readonly #lock: StateLock
  readonly #folder: string
  readonly #limits: GroupLimits
  readonly #log: Logger
  #loaded: number
  /**
   * Why the last write failed, per what it wrote: a partition's batch, or the snapshot as a whole (a
   * replay's group, the origin). Only a later write of the same clears it: another partition's batch
   * written fine says nothing of a batch that is still not (its partition is behind the topic).
   */
  readonly #writeErrors = new Map<WriteScope, string>()
  #replaying = true
  /** The replay began on an empty table: its one group is written once the replay ends (see `#due`). */
  #intoEmpty: boolean
  /** A group is written before memory takes another batch: memory then holds the group's values. */
  #group: WriteGroup
  /**
   * The group left at readiness, being written a slice per turn of the event loop. Memory does not
   * change meanwhile: whatever would change it or the file (a batch, a dropped partition, a new origin
   * or replay, close) finishes the write first, and `clear` rolls it back.
   */
  #slices: SlicedWrite | undefined
  #slicesStartedAt = 0
  #nextSlice: ReturnType<typeof setImmediate> | undefined
  #retry: ReturnType<typeof setInterval> | undefined

  private constructor(
    memory: MemoryStore,
    journal: SqliteSnapshot,
    lock: StateLock,
    folder: string,
    limits: GroupLimits,
    log: Logger,
  ) {
    this.#memory = memory
    this.#log = log
    this.#journal = journal
    this.#lock = lock
    this.#folder = folder
    this.#limits = limits
    this.#loaded = memory.size
    this.#intoEmpty = memory.size === 0
    // After the load: the rows read from the file are not marked as changes to write back.
    this.#group = new WriteGroup(memory)
  }

  /** Locks `dir` for this process, then loads its snapshot (or starts empty); groups writes until `endReplay`. */
  static open(dir: string, log: Logger, limits: GroupLimits = REPLAY_GROUP): PersistentStore {
    const folder = resolve(dir)
    try {
      mkdirSync(folder, { recursive: true })
    } catch (error) {
      throw new StateDirError(
        `STATE_DIR=${folder}: cannot create the folder (${(error as Error).message}); fix the path or its permissions, or set STATE_DIR=memory`,
      )
    }
    const lock = StateLock.acquire(folder)
    try {
      const startedAt = performance.now()
      let memory = new MemoryStore()
      // The rows stream straight into memory; a file found corrupt half-way is read again into a new one.
      const journal = SqliteSnapshot.open(join(folder, SNAPSHOT_FILE), log, () => {
        memory = new MemoryStore()
        return memory
      })
      const store = new PersistentStore(memory, journal, lock, folder, limits, log)
      log.info('loaded the local snapshot', {
        stateDir: folder,
        keys: store.size,
        partitions: memory.positions().size,
        ms: Math.round(performance.now() - startedAt),
      })
      return store
    } catch (error) {
      lock.release()
      throw error
    }
  }

  get(clienteId: string): Balance | undefined {
    return this.#memory.get(clienteId)
  }

  answer(clienteId: string): BalanceAnswer | undefined {
    return this.#memory.answer(clienteId)
  }

  etag(clienteId: string): string | undefined {
    return this.#memory.etag(clienteId)
  }

  get size(): number {
    return this.#memory.size
  }

  position(partition: number): number {
    return this.#memory.position(partition)
  }

  positions(): ReadonlyMap<number, number> {
    return this.#memory.positions()
  }

  /**
   * A group due to be written is written before the batch is taken; if that write fails, memory and
   * position stay put (the batch is read again), as they do when a batch of the tail cannot be written.
   */
  apply(partition: number, changes: readonly Change[], nextOffset: number, offsets: readonly number[]): void {
    if (!this.#group.isEmpty && (!this.#replaying || this.#due())) this.#writeGroup()
    if (this.#replaying) {
      this.#group.add(partition, changes, nextOffset)
      this.#memory.apply(partition, changes, nextOffset, offsets)
      return
    }
    this.#toDisk(() => this.#journal.write(batchWrite(partition, changes, nextOffset, offsets)), partition)
    this.#memory.apply(partition, changes, nextOffset, offsets)
    // On disk already, and no group is pending (it was written first): nothing to write again.
    this.#memory.marks.clearMarks()
  }

  /**
   * The state is rebuilt from the topic (it was thrown away): its batches are grouped again until
   * `endReplay`, as at boot, instead of one transaction per batch.
   */
  beginReplay(): void {
    // The group being written must be on disk first: its checkpoints are read when it commits.
    if (this.#slices) this.#writeGroup()
    this.#replaying = true
  }

  /**
   * The replay is complete: every batch from here on is written before memory takes it, and the last
   * group of the replay first. That group (the whole table, after a replay into an empty one: a
   * million rows take ~2 s) is written in the background, `sliceRows` per turn of the event loop,
   * in one transaction: reads are served meanwhile, from a memory that took every batch of the group,
   * and a batch that comes first writes the rest at once. A crash before the commit leaves the
   * snapshot as it was, as a crash during the replay does. A group that cannot be written (a disk
   * already full is found here, after /ready answered 200) keeps `writeError` set (reads answer 503)
   * and is tried again every second, or by the next batch, until it is.
   */
  endReplay(): void {
    this.#replaying = false
    if (!this.#group.isEmpty) this.#beginSlices()
  }

  #beginSlices(): void {
    this.#slicesStartedAt = performance.now()
    try {
      this.#slices = this.#journal.begin(this.#group)
    } catch (error) {
      this.#failed(error, SNAPSHOT)
      this.#retryGroup()
      return
    }
    this.#writeSlice()
  }

  /**
   * One slice. Only the commit clears `writeError`: rows that SQLite took in its cache are not on disk
   * yet (a full disk refuses them when the cache spills, or at the commit).
   */
  #writeSlice(): void {
    const slices = this.#slices as SlicedWrite
    let done: boolean
    try {
      done = slices.step(this.#limits.sliceRows)
    } catch (error) {
      this.#failed(error, SNAPSHOT)
      this.#slices = undefined
      this.#retryGroup()
      return
    }
    if (!done) {
      this.#nextSlice = setImmediate(() => this.#writeSlice())
      return
    }
    this.#slices = undefined
    this.#writeErrors.delete(SNAPSHOT)
    this.#stopRetry()
    this.#slicesWritten()
  }

  #slicesWritten(): void {
    this.#log.info("the replay's last group is in the local snapshot", {
      changes: this.#group.changes,
      ms: Math.round(performance.now() - this.#slicesStartedAt),
    })
    this.#groupWritten()
  }

  /** Tries the group again every second, in slices as well, until it is written (or a batch writes it). */
  #retryGroup(): void {
    this.#retry ??= setInterval(() => {
      if (this.#group.isEmpty) this.#stopRetry()
      else if (!this.#slices) this.#beginSlices()
    }, RETRY_MS)
    this.#retry.unref()
  }

  #due(): boolean {
    // Into an empty table, the rows of one group written in key order are appended to the B-tree;
    // each further group would rewrite most of its pages (3M records over 1M keys, 3 partitions: CPU
    // to ready 13.4-14.9 s in one group, 18.8-19.7 s in groups of 1M records; memory alone 10.8-11.8 s).
    // What a crash then loses is the whole replay, which a restart does again, as with no STATE_DIR.
    if (this.#intoEmpty) return false
    return (
      this.#group.changes >= this.#limits.rows || performance.now() - this.#group.startedAt >= this.#limits.ms
    )
  }

  /** Writes the group now: what is left of it when it is being written in slices. */
  #writeGroup(): void {
    const slices = this.#takeSlices()
    if (slices) {
      this.#toDisk(() => slices.step(Number.POSITIVE_INFINITY))
      this.#slicesWritten()
    } else {
      this.#toDisk(() => this.#journal.write(this.#group))
      this.#groupWritten()
    }
  }

  #groupWritten(): void {
    this.#group.written()
    this.#group = new WriteGroup(this.#memory)
  }

  /** The write in slices, if one is under way, stopped where it is: the caller ends it. */
  #takeSlices(): SlicedWrite | undefined {
    clearImmediate(this.#nextSlice)
    const slices = this.#slices
    this.#slices = undefined
    return slices
  }

  #stopRetry(): void {
    clearInterval(this.#retry)
    this.#retry = undefined
  }

  get writeError(): string | undefined {
    return this.#writeErrors.values().next().value
  }

  get origin(): StoreOrigin | undefined {
    return this.#memory.origin
  }

  setOrigin(origin: StoreOrigin): void {
    if (this.#slices) this.#writeGroup()
    this.#toDisk(() => this.#journal.setOrigin(origin))
    this.#memory.setOrigin(origin)
  }

  get loadedFromSnapshot(): number {
    return this.#loaded
  }

  /**
   * The group is written first: written later, it would put the partition's checkpoint back. The
   * snapshot then forgets the partition, and memory last, as for a batch.
   */
  dropPartition(partition: number): number {
    if (!this.#group.isEmpty) this.#writeGroup()
    this.#toDisk(() => this.#journal.dropPartition(partition), partition)
    return this.#memory.dropPartition(partition)
  }

  clear(): void {
    // The state the write holds is thrown away.
    this.#takeSlices()?.abort()
    this.#toDisk(() => this.#journal.clear())
    // Every batch that failed is read again from the topic, into the empty state.
    this.#writeErrors.clear()
    this.#stopRetry()
    this.#memory.clear()
    this.#group = new WriteGroup(this.#memory)
    this.#loaded = 0
    this.#intoEmpty = true
  }

  /**
   * Runs a write of the snapshot, keeping why it failed (until a write of the same `scope` succeeds)
   * for /ready and reads.
   */
  #toDisk(write: () => void, scope: WriteScope = SNAPSHOT): void {
    try {
      write()
    } catch (error) {
      this.#failed(error, scope)
      throw error
    }
    this.#writeErrors.delete(scope)
  }

  #failed(error: unknown, scope: WriteScope): void {
    this.#writeErrors.set(
      scope,
      `cannot write the local state in STATE_DIR=${this.#folder} (${(error as Error).message}): free space there or fix its permissions; the batch is retried until it is written`,
    )
  }

  /** Writes what the replay grouped so far (a stop loses nothing it has applied), then lets go. */
  close(): void {
    this.#stopRetry()
    try {
      if (!this.#group.isEmpty) this.#writeGroup()
    } finally {
      // Whatever the write did, a second close has nothing left to write.
      this.#group = new WriteGroup(this.#memory)
      this.#journal.close()
      this.#lock.release()
    }
  }
}
