import { Database, SQLiteError, type Statement } from 'bun:sqlite'
import { existsSync, renameSync, rmSync } from 'node:fs'
import type { Logger } from '../log.ts'
import { StateDirError } from './errors.ts'
import type { MemoryStore } from './memory-store.ts'
import type { StoreOrigin } from './store.ts'
import type { SnapshotRow, SnapshotWrite } from './write-group.ts'

/** Raise it when the tables change: a file of another version is thrown away and rebuilt. */
export const SCHEMA_VERSION = 2

/** What each older version lacks, logged when its file is thrown away. */
const OLDER_VERSIONS: Record<number, string> = {
  1: 'version 1 keeps no offset per row, which the ETags of conditional writes need',
}

const SCHEMA = `
  CREATE TABLE balances (
    cliente_id TEXT PRIMARY KEY,
    saldo REAL NOT NULL,
    timestamp TEXT NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE checkpoints (partition INTEGER PRIMARY KEY, next_offset INTEGER NOT NULL);
  CREATE TABLE meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    topic TEXT NOT NULL,
    cluster_id TEXT NOT NULL,
    partitions INTEGER NOT NULL
  );
  PRAGMA user_version = ${SCHEMA_VERSION};
`

/** Where a snapshot's content goes as it is read: the in-memory store, row by row. */
export type SnapshotTarget = Pick<MemoryStore, 'apply' | 'setOrigin' | 'reserve' | 'load'>

/**
 * A synchronous load gives the collector no idle moment: without a young-generation collection now
 * and then, the heap grows to every row object read (1M keys: 1.75x instead of 2.5x the settled RSS
 * at peak, and faster; a full collection instead took 2.6x as long for 1.6x).
 */
const GC_EVERY_ROWS = 65_536

/**
 * Rows bound to one INSERT: a call into SQLite per row costs more than the row's insert itself (1M
 * rows in key order into an empty table: 2.1-2.2 s one per statement, 0.9-1.0 s 64 per statement; 16:
 * 1.0 s). 64 × 5 values stays far below SQLite's limit of 32,766 variables.
 */
const ROWS_PER_INSERT = 64
const COLUMNS = 5

class CorruptSnapshot extends Error {}

const isCorrupt = (error: unknown) =>
  error instanceof CorruptSnapshot ||
  (error instanceof SQLiteError && /^SQLITE_(CORRUPT|NOTADB)/.test(error.code ?? ''))

/**
 * The rows and per-partition checkpoints on disk, in one SQLite file (WAL, synchronous=NORMAL). Each
 * `write` is one transaction holding a group of batches' rows and their partitions' next offsets, so
 * whatever instant the process dies at, the file holds a state that some prefix of every partition
 * produced.
 */
export class SqliteSnapshot {
  readonly #db: Database
  readonly #statements: WriteStatements
  readonly #setOrigin: Statement

  private constructor(db: Database) {
    this.#db = db
    const insert = (rows: number) =>
      db.prepare(
        `INSERT OR REPLACE INTO balances (cliente_id, saldo, timestamp, partition, offset) VALUES ${Array(rows).fill('(?, ?, ?, ?, ?)').join(', ')}`,
      )
    this.#statements = {
      putOne: insert(1),
      putMany: insert(ROWS_PER_INSERT),
      remove: db.prepare('DELETE FROM balances WHERE cliente_id = ?'),
      checkpoint: db.prepare('INSERT OR REPLACE INTO checkpoints (partition, next_offset) VALUES (?, ?)'),
    }
    this.#setOrigin = db.prepare(
      'INSERT OR REPLACE INTO meta (id, topic, cluster_id, partitions) VALUES (1, ?, ?, ?)',
    )
  }

  /**
   * Opens (or creates) the file at `path` and streams what it holds into `target`. A file of another
   * schema version is replaced by an empty one; a corrupt or truncated one is moved aside
   * (`<path>.corrupt-<time>`) and replaced too, with a warning: the state is then rebuilt from Kafka.
   * `fresh` is called before each attempt: a corrupt file found half-way must leave no rows behind.
   */
  static open(path: string, log: Logger, fresh: () => SnapshotTarget): SqliteSnapshot {
    try {
      return SqliteSnapshot.#openAndRead(path, log, fresh())
    } catch (error) {
      if (!isCorrupt(error)) {
        throw new StateDirError(
          `cannot open the local snapshot ${path} (${(error as Error).message}); make the folder writable and give it free space, or set STATE_DIR=memory`,
        )
      }
      const movedTo = moveAside(path)
      log.warn('the local snapshot is corrupt; moved it aside, rebuilding from the beginning of the topic', {
        path,
        movedTo,
        error,
      })
      return SqliteSnapshot.#openAndRead(path, log, fresh())
    }
  }

  static #openAndRead(path: string, log: Logger, target: SnapshotTarget): SqliteSnapshot {
    const db = SqliteSnapshot.#connect(path, log)
    try {
      const problems = db.query<{ quick_check: string }, []>('PRAGMA quick_check').all()
      if (problems[0]?.quick_check !== 'ok') {
        throw new CorruptSnapshot(
          problems
            .map((p) => p.quick_check)
            .slice(0, 3)
            .join('; '),
        )
      }
      const snapshot = new SqliteSnapshot(db)
      snapshot.#readInto(target)
      return snapshot
    } catch (error) {
      db.close(true)
      throw error
    }
  }

  /** The file in WAL mode with this version's tables; a file of another version is replaced. */
  static #connect(path: string, log: Logger): Database {
    const db = new Database(path, { create: true, strict: true })
    let version: number
    try {
      db.run('PRAGMA journal_mode = WAL')
      // NORMAL in WAL mode: a commit is durable once the OS has it, which is all a process crash needs.
      db.run('PRAGMA synchronous = NORMAL')
      // A 16 MiB page cache and a checkpoint every ~40 MiB of WAL (instead of 2 MiB and 4 MiB) wrote
      // 400k random keys in batches of 10k 1.5x as fast.
      db.run('PRAGMA cache_size = -16384')
      db.run('PRAGMA wal_autocheckpoint = 10000')
      version = db.query<{ user_version: number }, []>('PRAGMA user_version').get()?.user_version ?? 0
      if (version === SCHEMA_VERSION) return db
      const tables = db.query<{ n: number }, []>(
        "SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'",
      )
      if (tables.get()?.n === 0) {
        db.transaction(() => db.run(SCHEMA))()
        return db
      }
    } catch (error) {
      db.close(true)
      throw error
    }
    log.warn('the local snapshot has another schema version; rebuilding from the beginning of the topic', {
      path,
      version,
      expected: SCHEMA_VERSION,
      why: OLDER_VERSIONS[version] ?? 'a newer saldo wrote it',
    })
    db.close(true)
    removeFiles(path)
    return SqliteSnapshot.#connect(path, log)
  }

  #readInto(target: SnapshotTarget): void {
    const meta = this.#db
      .query<StoreOrigin, []>('SELECT topic, cluster_id AS clusterId, partitions FROM meta')
      .get()
    if (meta) target.setOrigin(meta)
    const checkpoints = new Set<number>()
    for (const { partition, next_offset } of this.#db
      .query<{ partition: number; next_offset: number }, []>('SELECT partition, next_offset FROM checkpoints')
      .all()) {
      checkpoints.add(partition)
      target.apply(partition, [], next_offset, [])
    }
    // The table is sized once for every row (UTF-8 bytes, as the table stores them): grown by
    // doubling, each array's old and new copies were both held at the load's peak.
    const size = this.#db
      .query<{ n: number; bytes: number | null }, []>(
        'SELECT count(*) AS n, sum(length(CAST(cliente_id AS BLOB)) + length(CAST(timestamp AS BLOB))) AS bytes FROM balances',
      )
      .get()
    target.reserve(size?.n ?? 0, size?.bytes ?? 0)
    const rows = this.#db.query<
      { cliente_id: string; saldo: number; timestamp: string; partition: number; offset: number },
      []
    >('SELECT cliente_id, saldo, timestamp, partition, offset FROM balances')
    let read = 0
    for (const { cliente_id, saldo, timestamp, partition, offset } of rows.iterate()) {
      // Rows and checkpoints are written together: rows without one mean the file was damaged.
      if (!checkpoints.has(partition))
        throw new CorruptSnapshot(`rows of partition ${partition} have no checkpoint`)
      target.load(partition, cliente_id, saldo, timestamp, offset)
      if (++read % GC_EVERY_ROWS === 0) Bun.gc(false)
    }
  }

  /** One transaction: the rows and their partitions' next offsets, or nothing. */
  write(write: SnapshotWrite): void {
    this.begin(write).step(Number.POSITIVE_INFINITY)
  }

  /**
   * `write`, a slice of rows at a time: one transaction, begun now and committed by the `step` that
   * writes its last row and its checkpoints. Nothing else may use the snapshot until then, or `abort`.
   */
  begin(write: SnapshotWrite): SlicedWrite {
    return new Transaction(this.#db, this.#statements, write)
  }

  setOrigin({ topic, clusterId, partitions }: StoreOrigin): void {
    this.#setOrigin.run(topic, clusterId, partitions)
  }

  /** One transaction: the partition's rows and checkpoint, so a restart replays it from the start if it holds it again. */
  dropPartition(partition: number): void {
    this.#db.transaction(() => {
      for (const table of ['balances', 'checkpoints'])
        this.#db.run(`DELETE FROM ${table} WHERE partition = ?`, [partition])
    })()
  }

  clear(): void {
    this.#db.transaction(() => {
      for (const table of ['balances', 'checkpoints', 'meta']) this.#db.run(`DELETE FROM ${table}`)
    })()
  }

  /** Closing the last connection checkpoints the WAL into the file. */
  close(): void {
    this.#db.close(true)
  }
}

interface WriteStatements {
  putOne: Statement
  putMany: Statement
  remove: Statement
  checkpoint: Statement
}

/** A write of the snapshot in slices (see `SqliteSnapshot.begin`). */
export interface SlicedWrite {
  /**
   * Writes up to `rows` more rows; true once every row and the checkpoints are written and the
   * transaction committed. A failure rolls the whole transaction back and throws.
   */
  step(rows: number): boolean
  /** Rolls back what was written: none of it reaches the file. */
  abort(): void
}

class Transaction implements SlicedWrite {
  readonly #db: Database
  readonly #statements: WriteStatements
  readonly #write: SnapshotWrite
  readonly #rows: Iterator<SnapshotRow>
  /**
   * The values of up to ROWS_PER_INSERT puts, bound to one statement; a write names each key once,
   * so puts held back here and deletions run at once cannot overtake one another on the same key.
   */
  readonly #values: Array<string | number> = []

  constructor(db: Database, statements: WriteStatements, write: SnapshotWrite) {
    this.#db = db
    this.#statements = statements
    this.#write = write
    db.run('BEGIN')
    this.#rows = write.rows()[Symbol.iterator]()
  }

  step(rows: number): boolean {
    try {
      return this.#step(rows)
    } catch (error) {
      this.abort()
      throw error
    }
  }

  #step(rows: number): boolean {
    const { putOne, putMany, remove, checkpoint } = this.#statements
    const values = this.#values
    for (let written = 0; written < rows; written++) {
      const next = this.#rows.next()
      if (next.done) {
        for (let at = 0; at < values.length; at += COLUMNS) putOne.run(...values.slice(at, at + COLUMNS))
        for (const [partition, nextOffset] of this.#write.checkpoints()) checkpoint.run(partition, nextOffset)
        this.#db.run('COMMIT')
        return true
      }
      const { partition, clienteId, balance, offset } = next.value
      if (!balance) {
        remove.run(clienteId)
        continue
      }
      values.push(clienteId, balance.saldo, balance.timestamp, partition, offset)
      if (values.length === ROWS_PER_INSERT * COLUMNS) {
        putMany.run(...values)
        values.length = 0
      }
    }
    return false
  }

  abort(): void {
    if (this.#db.inTransaction) this.#db.run('ROLLBACK')
  }
}

const SIDE_FILES = ['-wal', '-shm', '-journal']

function removeFiles(path: string): void {
  for (const suffix of ['', ...SIDE_FILES]) rmSync(`${path}${suffix}`, { force: true })
}

/** Keeps a corrupt file (and its WAL, which belongs to it) for inspection, out of the way. */
function moveAside(path: string): string {
  const target = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`
  for (const suffix of ['', ...SIDE_FILES]) {
    if (existsSync(`${path}${suffix}`)) renameSync(`${path}${suffix}`, `${target}${suffix}`)
  }
  return target
}
