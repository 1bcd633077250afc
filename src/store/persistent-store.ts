import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Logger } from '../log.ts'
import { StateDirError } from './errors.ts'
import { MemoryStore } from './memory-store.ts'
import { type SavedState, SqliteSnapshot } from './sqlite-snapshot.ts'
import { StateLock } from './state-lock.ts'
import type { Change, StoreOrigin } from './store.ts'

export const SNAPSHOT_FILE = 'saldo.db'

/**
 * The in-memory store (still the query path) writing every change through to a SQLite snapshot in
 * STATE_DIR, so that a restart loads the snapshot and replays only what came after it.
 */
export class PersistentStore extends MemoryStore {
  readonly #snapshot: SqliteSnapshot
  readonly #lock: StateLock
  readonly #folder: string
  #loaded: number
  #writeError: string | undefined

  private constructor(snapshot: SqliteSnapshot, lock: StateLock, folder: string, saved: SavedState) {
    super()
    this.#snapshot = snapshot
    this.#lock = lock
    this.#folder = folder
    // The base class's methods: what comes from the snapshot need not be written to it again.
    for (const { partition, changes, nextOffset } of saved.partitions)
      super.apply(partition, changes, nextOffset)
    if (saved.origin) super.setOrigin(saved.origin)
    this.#loaded = this.size
  }

  /** Locks `dir` for this process, then loads its snapshot (or starts empty). */
  static open(dir: string, log: Logger): PersistentStore {
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
      const { snapshot, saved } = SqliteSnapshot.open(join(folder, SNAPSHOT_FILE), log)
      const store = new PersistentStore(snapshot, lock, folder, saved)
      log.info('loaded the local snapshot', {
        stateDir: folder,
        keys: store.size,
        partitions: saved.partitions.length,
        ms: Math.round(performance.now() - startedAt),
      })
      return store
    } catch (error) {
      lock.release()
      throw error
    }
  }

  /** Disk first: if the write fails, memory and position stay put and the batch is read again. */
  override apply(partition: number, changes: readonly Change[], nextOffset: number): void {
    this.#toDisk(() => this.#snapshot.write(partition, changes, nextOffset))
    super.apply(partition, changes, nextOffset)
  }

  override get writeError(): string | undefined {
    return this.#writeError
  }

  override setOrigin(origin: StoreOrigin): void {
    this.#toDisk(() => this.#snapshot.setOrigin(origin))
    super.setOrigin(origin)
  }

  override get loadedFromSnapshot(): number {
    return this.#loaded
  }

  override clear(): void {
    this.#toDisk(() => this.#snapshot.clear())
    super.clear()
    this.#loaded = 0
  }

  /** Runs a write of the snapshot, keeping why it failed (until one succeeds) for /ready and reads. */
  #toDisk(write: () => void): void {
    try {
      write()
    } catch (error) {
      this.#writeError = `cannot write the local state in STATE_DIR=${this.#folder} (${(error as Error).message}): free space there or fix its permissions; the batch is retried until it is written`
      throw error
    }
    this.#writeError = undefined
  }

  override close(): void {
    this.#snapshot.close()
    this.#lock.release()
  }
}
