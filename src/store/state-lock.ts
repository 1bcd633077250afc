import { Database, SQLiteError } from 'bun:sqlite'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { StateDirError } from './errors.ts'

const LOCK_FILE = 'saldo.lock'

interface Owner {
  pid: number
  host: string
  since: string
}

const isBusy = (error: unknown) => error instanceof SQLiteError && error.code?.startsWith('SQLITE_BUSY')

/**
 * One process per STATE_DIR. The lock is a write transaction kept open on a small SQLite file: SQLite's
 * POSIX locks exclude other processes (also in other containers sharing the folder) and the kernel
 * releases them when the holder dies, even on kill -9, so a crash never leaves a stale lock behind. The
 * file also names the holder, so that a second process can say who it is. Keep the StateLock referenced:
 * Bun closes a Database that is garbage-collected, and that would release the lock.
 */
export class StateLock {
  readonly #db: Database

  private constructor(db: Database) {
    this.#db = db
  }

  static acquire(dir: string): StateLock {
    let db: Database | undefined
    try {
      db = new Database(join(dir, LOCK_FILE), { create: true, strict: true })
      db.run('PRAGMA busy_timeout = 0')
      db.run(
        'CREATE TABLE IF NOT EXISTS owner (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER, host TEXT, since TEXT)',
      )
      db.run('BEGIN IMMEDIATE')
      db.run('INSERT OR REPLACE INTO owner VALUES (1, ?, ?, ?)', [
        process.pid,
        hostname(),
        new Date().toISOString(),
      ])
      db.run('COMMIT')
      // Held until release(): other processes can still read the owner, but not begin a write.
      db.run('BEGIN IMMEDIATE')
      return new StateLock(db)
    } catch (error) {
      const owner = db && isBusy(error) ? readOwner(db) : undefined
      db?.close(true)
      if (!isBusy(error)) {
        throw new StateDirError(
          `STATE_DIR=${dir}: cannot create the lock file ${LOCK_FILE} (${(error as Error).message}); make the folder writable, or set STATE_DIR=memory`,
        )
      }
      const who = owner
        ? `pid ${owner.pid} on host ${owner.host}, since ${owner.since}`
        : 'a process that is starting'
      throw new StateDirError(
        `STATE_DIR=${dir} is in use by another saldo-api (${who}); stop that process, or give this one its own STATE_DIR`,
      )
    }
  }

  release(): void {
    this.#db.close(true)
  }
}

/** The holder's row; undefined while a starting holder has not committed it yet. */
function readOwner(db: Database): Owner | undefined {
  try {
    // The holder may be committing its row right now: wait a moment for it.
    db.run('PRAGMA busy_timeout = 2000')
    return db.query<Owner, []>('SELECT pid, host, since FROM owner').get() ?? undefined
  } catch {
    // Not there yet (the file is being created): the message then says "a process that is starting".
    return undefined
  }
}
