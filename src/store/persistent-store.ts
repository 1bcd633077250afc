import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Balance } from '../balance.ts'
import type { Logger } from '../log.ts'
import { StateDirError } from './errors.ts'
import { MemoryStore } from './memory-store.ts'
import { SqliteSnapshot } from './sqlite-snapshot.ts'
import { StateLock } from './state-lock.ts'
import type { BalanceStore, Change, StoreOrigin } from './store.ts'

export const SNAPSHOT_FILE = 'saldo.db'

/**
 * The in-memory store (still the query path) with a write-through journal: every batch is written to
 * a SQLite snapshot in STATE_DIR before memory takes it, so that a restart loads the snapshot and
 * replays only what came after it.
 */
export class PersistentStore implements BalanceStore {
  readonly #memory: MemoryStore
  readonly #journal: SqliteSnapshot
  readonly #lock: StateLock
  readonly #folder: string
  #loaded: number
  #writeError: string | undefined

  private constructor(memory: MemoryStore, journal: SqliteSnapshot, lock: StateLock, folder: string) {
    this.#memory = memory
    this.#journal = journal
    this.#lock = lock
    this.#folder = folder
    this.#loaded = memory.size
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
      let memory = new MemoryStore()
      // The rows stream straight into memory; a file found corrupt half-way is read again into a new one.
      const journal = SqliteSnapshot.open(join(folder, SNAPSHOT_FILE), log, () => {
        memory = new MemoryStore()
        return memory
      })
      const store = new PersistentStore(memory, journal, lock, folder)
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

  /** Disk first: if the write fails, memory and position stay put and the batch is read again. */
  apply(partition: number, changes: readonly Change[], nextOffset: number, offsets: readonly number[]): void {
    this.#toDisk(() => this.#journal.write(partition, changes, nextOffset, offsets))
    this.#memory.apply(partition, changes, nextOffset, offsets)
  }

  get writeError(): string | undefined {
    return this.#writeError
  }

  get origin(): StoreOrigin | undefined {
    return this.#memory.origin
  }

  setOrigin(origin: StoreOrigin): void {
    this.#toDisk(() => this.#journal.setOrigin(origin))
    this.#memory.setOrigin(origin)
  }

  get loadedFromSnapshot(): number {
    return this.#loaded
  }

  clear(): void {
    this.#toDisk(() => this.#journal.clear())
    this.#memory.clear()
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

  close(): void {
    this.#journal.close()
    this.#lock.release()
  }
}
