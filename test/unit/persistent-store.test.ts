import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { closeSync, openSync, readdirSync, statSync, truncateSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { StateDirError } from '../../src/store/errors.ts'
import {
  type GroupLimits,
  PersistentStore,
  REPLAY_GROUP,
  SNAPSHOT_FILE,
} from '../../src/store/persistent-store.ts'
import { SCHEMA_VERSION } from '../../src/store/sqlite-snapshot.ts'
import type { Change } from '../../src/store/store.ts'
import { captureLog, offsetsBefore, onCleanup, tempDir, waitFor } from '../helpers.ts'

const origin = { topic: 'contas', clusterId: 'cluster-a', partitions: 2 }
const put = (id: string, saldo: number): Change => ({
  kind: 'put',
  balance: { cliente_id: id, saldo, timestamp: '2025-10-14T10:30:45' },
})

function open(dir: string, limits: Partial<GroupLimits> = {}) {
  const { log, lines } = captureLog()
  const store = PersistentStore.open(dir, log, { ...REPLAY_GROUP, ...limits })
  onCleanup(() => store.close())
  return { store, lines }
}

/** A closed snapshot with `keys` rows in partition 0 (position keys) and one in partition 1. */
function filled(keys: number): string {
  const dir = tempDir()
  const { store } = open(dir)
  store.setOrigin(origin)
  store.apply(
    0,
    Array.from({ length: keys }, (_, i) => put(`client-${i}`, i)),
    keys,
    offsetsBefore(keys, keys),
  )
  store.apply(1, [put('one', 1.5)], 7, [6])
  store.close()
  return dir
}

/** A closed snapshot holding one row, `z` of partition 2 (position 1): a restart's table is not empty. */
function holdingOneRow(): string {
  const dir = tempDir()
  const { store } = open(dir)
  store.apply(2, [put('z', 1)], 1, [0])
  store.close()
  return dir
}

describe('PersistentStore', () => {
  it('drops a partition from memory and from the snapshot, keeping the others (MODE=partitioned)', () => {
    const dir = filled(3)
    const { store } = open(dir)
    expect(store.dropPartition(0)).toBe(3)
    expect(store.get('client-0')).toBeUndefined()
    expect(store.positions()).toEqual(new Map([[1, 7]]))
    expect(store.get('one')?.saldo).toBe(1.5)
    store.close()
    const again = open(dir).store
    expect(again.size).toBe(1)
    expect(again.positions()).toEqual(new Map([[1, 7]]))
  })

  it('writes the replay group before dropping a partition, so its checkpoint does not come back', () => {
    const dir = tempDir()
    const { store } = open(dir, { rows: 1000, ms: 60_000 })
    store.setOrigin(origin)
    store.apply(0, [put('a', 1)], 1, [0])
    store.apply(1, [put('b', 2)], 1, [0])
    store.dropPartition(0)
    store.close()
    const again = open(dir).store
    expect(again.positions()).toEqual(new Map([[1, 1]]))
    expect(again.get('a')).toBeUndefined()
    expect(again.get('b')?.saldo).toBe(2)
  })

  it('loads what was applied: rows, deletions, positions and origin', () => {
    const dir = tempDir()
    const first = open(dir).store
    expect(first.loadedFromSnapshot).toBe(0)
    first.setOrigin(origin)
    first.apply(0, [put('a', 1), put('b', -2.25), put('c', 3)], 10, [7, 8, 9])
    first.apply(0, [{ kind: 'delete', clienteId: 'b' }, put('a', 1e300)], 12, [10, 11])
    first.apply(1, [put('é/ü', 0.1)], 4, [3])
    first.close()

    const { store, lines } = open(dir)
    expect(store.loadedFromSnapshot).toBe(3)
    expect(store.get('a')?.saldo).toBe(1e300)
    // Each row keeps the offset of the record that set it: ETags survive a restart.
    expect(['a', 'c', 'é/ü'].map((id) => store.etag(id))).toEqual(['"0-11"', '"0-9"', '"1-3"'])
    expect(store.get('b')).toBeUndefined()
    expect(store.get('é/ü')).toEqual({ cliente_id: 'é/ü', saldo: 0.1, timestamp: '2025-10-14T10:30:45' })
    expect([...store.positions()].sort()).toEqual([
      [0, 12],
      [1, 4],
    ])
    expect(store.origin).toEqual(origin)
    expect(lines.find((l) => l.msg === 'loaded the local snapshot')).toMatchObject({ keys: 3, partitions: 2 })
  })

  it('keeps the last change of a key within one batch', () => {
    const dir = tempDir()
    const first = open(dir).store
    first.apply(
      0,
      [put('z', 1), put('a', 1), put('z', 2), { kind: 'delete', clienteId: 'a' }, put('m', 1), put('z', 3)],
      6,
      offsetsBefore(6, 6),
    )
    first.apply(
      1,
      [{ kind: 'delete', clienteId: 'm' }, put('m', 5), put('b', 1), { kind: 'delete', clienteId: 'b' }],
      4,
      offsetsBefore(4, 4),
    )
    first.close()
    const { store } = open(dir)
    expect([...['a', 'b', 'm', 'z'].map((id) => store.get(id)?.saldo)]).toEqual([undefined, undefined, 5, 3])
  })

  it('keeps neither rows nor checkpoint of a batch of the tail whose write fails half-way, on disk or in memory', () => {
    const dir = tempDir()
    const first = open(dir).store
    first.endReplay()
    first.apply(0, [put('a', 1)], 5, [4])
    // SQLite stores NaN as NULL, which the table refuses: the write fails after 'b' went in.
    expect(() => first.apply(0, [put('b', 2), put('c', Number.NaN)], 9, [7, 8])).toThrow('NOT NULL')
    expect(first.get('b')).toBeUndefined()
    expect(first.position(0)).toBe(5)
    // The cause stays visible until a write succeeds.
    expect(first.writeError).toContain(`cannot write the local state in STATE_DIR=${dir} (NOT NULL`)
    first.apply(0, [], 5, [])
    expect(first.writeError).toBeUndefined()
    first.close()
    const { store } = open(dir)
    expect(store.get('b')).toBeUndefined()
    expect(store.position(0)).toBe(5)
  })

  it("keeps a partition's failed batch in writeError until that partition's batch is written, whatever others write meanwhile", () => {
    const { store } = open(tempDir())
    store.endReplay()
    store.apply(0, [put('a', 1)], 5, [4])
    expect(() => store.apply(0, [put('a', 2), put('c', Number.NaN)], 9, [7, 8])).toThrow('NOT NULL')
    // The same fetch's batch of partition 1 is written; partition 0 is still behind: 'a' is stale.
    store.apply(1, [put('z', 1)], 3, [2])
    expect(store.get('a')?.saldo).toBe(1)
    expect(store.writeError).toContain('NOT NULL')
    store.apply(0, [put('a', 2)], 9, [7])
    expect(store.writeError).toBeUndefined()
  })

  it('during the replay, writes a group of batches once it holds enough changes, and the rest when the replay ends', () => {
    const dir = holdingOneRow()
    const store = open(dir, { rows: 3, ms: Number.MAX_VALUE }).store
    store.apply(0, [put('a', 1), put('b', 2)], 2, offsetsBefore(2, 2))
    store.apply(0, [put('c', 3), { kind: 'delete', clienteId: 'a' }], 4, offsetsBefore(4, 2))
    // Memory takes every batch at once; the disk, nothing yet.
    expect(store.get('c')?.saldo).toBe(3)
    expect(store.position(0)).toBe(4)
    expect(onDisk(dir)).toEqual({ rows: ['z'], checkpoints: [[2, 1]] })
    // Four changes are due: written, rows with their checkpoint, before the next batch is taken.
    store.apply(1, [put('x', 9)], 7, offsetsBefore(7, 1))
    expect(onDisk(dir)).toEqual({
      rows: ['b', 'c', 'z'],
      checkpoints: [
        [0, 4],
        [2, 1],
      ],
    })
    store.endReplay()
    expect(onDisk(dir)).toEqual({
      rows: ['b', 'c', 'x', 'z'],
      checkpoints: [
        [0, 4],
        [1, 7],
        [2, 1],
      ],
    })
    // In the tail, each batch is on disk once apply returns.
    store.apply(1, [put('y', 1)], 8, offsetsBefore(8, 1))
    expect(onDisk(dir)).toEqual({
      rows: ['b', 'c', 'x', 'y', 'z'],
      checkpoints: [
        [0, 4],
        [1, 8],
        [2, 1],
      ],
    })
  })

  it('writes a replay into an empty table once, when it ends, whatever the group limits', () => {
    const dir = tempDir()
    const store = open(dir, { rows: 1, ms: 0 }).store
    store.apply(0, [put('b', 2)], 1, [0])
    store.apply(1, [put('a', 1)], 1, [0])
    store.apply(0, [{ kind: 'delete', clienteId: 'b' }, put('c', 3)], 3, offsetsBefore(3, 2))
    expect(onDisk(dir)).toEqual({ rows: [], checkpoints: [] })
    store.endReplay()
    expect(onDisk(dir)).toEqual({
      rows: ['a', 'c'],
      checkpoints: [
        [0, 3],
        [1, 1],
      ],
    })
  })

  describe('the group left at readiness, written in slices', () => {
    /** A replay of `ids` into an empty table, partition 0, ended: its group is being written 2 rows a turn. */
    function endedReplay(ids: readonly string[], saldo = (i: number) => i) {
      const dir = tempDir()
      const { store, lines } = open(dir, { sliceRows: 2 })
      store.apply(
        0,
        ids.map((id, i) => put(id, saldo(i))),
        ids.length,
        offsetsBefore(ids.length, ids.length),
      )
      store.endReplay()
      return { dir, store, lines }
    }
    const ids = ['a', 'b', 'c', 'd', 'e']

    it('serves every key at once, and commits rows and checkpoint together, turns later', async () => {
      const { dir, store, lines } = endedReplay(ids)
      expect(ids.map((id) => store.get(id)?.saldo)).toEqual([0, 1, 2, 3, 4])
      // Not committed yet: another connection sees none of it.
      expect(onDisk(dir)).toEqual({ rows: [], checkpoints: [] })
      await waitFor(() => onDisk(dir).rows.length === ids.length, { what: 'the group committed' })
      expect(onDisk(dir)).toEqual({ rows: ids, checkpoints: [[0, 5]] })
      expect(store.writeError).toBeUndefined()
      expect(lines.find((l) => l.msg === "the replay's last group is in the local snapshot")).toMatchObject({
        changes: 5,
      })
    })

    it('is finished by the next batch, which is then on disk after it', () => {
      const { dir, store } = endedReplay(ids)
      store.apply(0, [put('a', 9), put('f', 5)], 7, [5, 6])
      expect(onDisk(dir)).toEqual({ rows: [...ids, 'f'], checkpoints: [[0, 7]] })
      store.close()
      expect(open(dir).store.get('a')?.saldo).toBe(9)
    })

    it('is finished before a replay groups batches again, or the origin is written', () => {
      const replay = endedReplay(ids)
      replay.store.beginReplay()
      expect(onDisk(replay.dir)).toEqual({ rows: ids, checkpoints: [[0, 5]] })
      const origin = endedReplay(ids)
      origin.store.setOrigin({ topic: 'contas', clusterId: 'c', partitions: 1 })
      expect(onDisk(origin.dir)).toEqual({ rows: ids, checkpoints: [[0, 5]] })
    })

    it('is finished by close, and rolled back by clear', () => {
      const closed = endedReplay(ids)
      closed.store.close()
      expect(onDisk(closed.dir)).toEqual({ rows: ids, checkpoints: [[0, 5]] })
      const cleared = endedReplay(ids)
      cleared.store.clear()
      cleared.store.apply(0, [put('z', 1)], 1, [0])
      cleared.store.close()
      expect(onDisk(cleared.dir)).toEqual({ rows: ['z'], checkpoints: [[0, 1]] })
    })

    it('when another writer holds the file, tries again every second, and clears the cause once committed', async () => {
      const dir = tempDir()
      const { store, lines } = open(dir, { sliceRows: 2 })
      store.apply(0, [put('a', 1), put('b', 2), put('c', 3)], 3, offsetsBefore(3, 3))
      // SQLITE_BUSY: a transient failure, as a disk that fills and is freed again.
      const holder = new Database(join(dir, SNAPSHOT_FILE))
      holder.run('BEGIN EXCLUSIVE')
      store.endReplay()
      await waitFor(() => store.writeError, { what: 'the refused write' })
      expect(store.writeError).toContain('locked')
      expect(store.get('c')?.saldo).toBe(3)
      holder.run('ROLLBACK')
      holder.close()
      await waitFor(() => store.writeError === undefined, { what: 'the retry', timeoutMs: 10_000 })
      expect(onDisk(dir)).toEqual({ rows: ['a', 'b', 'c'], checkpoints: [[0, 3]] })
      expect(lines.find((l) => l.msg === "the replay's last group is in the local snapshot")).toMatchObject({
        changes: 3,
      })
    })

    it('when a slice fails, keeps the cause for reads and writes nothing, until it is tried again', async () => {
      // SQLite stores NaN as NULL, which the table refuses: the last slice cannot be written.
      const { dir, store } = endedReplay(ids, (i) => (i === 4 ? Number.NaN : i))
      expect(store.writeError).toBeUndefined()
      await waitFor(() => store.writeError, { what: 'the failed slice' })
      expect(store.writeError).toContain(`cannot write the local state in STATE_DIR=${dir} (NOT NULL`)
      expect(onDisk(dir)).toEqual({ rows: [], checkpoints: [] })
      expect(store.get('d')?.saldo).toBe(3)
      // The group is kept: the next batch (whose own write would be fine) finds it due and fails on it.
      expect(() => store.apply(0, [put('f', 5)], 6, [5])).toThrow('NOT NULL')
      expect(store.get('f')).toBeUndefined()
      expect(() => store.close()).toThrow('NOT NULL')
    })
  })

  it('writes many rows in one transaction, the deletions among them, as they were applied', () => {
    const dir = holdingOneRow()
    const store = open(dir).store
    const ids = Array.from({ length: 200 }, (_, i) => `k${String(i).padStart(3, '0')}`)
    store.apply(
      2,
      [...ids.map((id, i) => put(id, i)), { kind: 'delete', clienteId: 'z' }],
      202,
      offsetsBefore(202, 201),
    )
    store.endReplay()
    expect(onDisk(dir)).toEqual({ rows: ids, checkpoints: [[2, 202]] })
    store.close()
    const again = open(dir).store
    expect(ids.map((id) => again.get(id)?.saldo)).toEqual(ids.map((_, i) => i))
    expect(again.etag('k199')).toBe('"2-200"')
  })

  it('groups the batches of a rebuild again, from beginReplay to endReplay', () => {
    const dir = tempDir()
    const store = open(dir, { rows: 3, ms: Number.MAX_VALUE }).store
    store.endReplay()
    store.clear()
    store.beginReplay()
    store.apply(0, [put('a', 1)], 1, [0])
    store.apply(0, [put('b', 2)], 2, [1])
    expect(onDisk(dir)).toEqual({ rows: [], checkpoints: [] })
    store.endReplay()
    expect(onDisk(dir)).toEqual({ rows: ['a', 'b'], checkpoints: [[0, 2]] })
  })

  it('during the replay, writes a group once it is old enough', () => {
    const dir = holdingOneRow()
    const store = open(dir, { rows: Number.MAX_VALUE, ms: 0 }).store
    store.apply(0, [put('a', 1)], 1, offsetsBefore(1, 1))
    store.apply(0, [put('b', 1)], 2, offsetsBefore(2, 1))
    expect(onDisk(dir)).toEqual({
      rows: ['a', 'z'],
      checkpoints: [
        [0, 1],
        [2, 1],
      ],
    })
  })

  it('loses only whole groups when one cannot be written, and takes no batch until it is', () => {
    const dir = holdingOneRow()
    const first = open(dir, { rows: 2, ms: Number.MAX_VALUE }).store
    first.apply(0, [put('a', 1)], 1, offsetsBefore(1, 1))
    first.apply(0, [put('b', 2)], 2, offsetsBefore(2, 1))
    // SQLite stores NaN as NULL, which the table refuses: the group holding it cannot be written.
    first.apply(0, [put('c', Number.NaN)], 3, offsetsBefore(3, 1))
    first.apply(0, [put('d', 4)], 4, offsetsBefore(4, 1))
    expect(() => first.apply(0, [put('e', 5)], 5, offsetsBefore(5, 1))).toThrow('NOT NULL')
    // The batch that found the group due was not taken: it is read again from the same position.
    expect(first.position(0)).toBe(4)
    expect(first.get('e')).toBeUndefined()
    expect(first.get('d')?.saldo).toBe(4)
    expect(first.writeError).toContain(`cannot write the local state in STATE_DIR=${dir} (NOT NULL`)
    first.endReplay()
    expect(first.writeError).toContain('NOT NULL')
    expect(() => first.close()).toThrow('NOT NULL')
    // A restart finds the last group written, rows and checkpoint together.
    const { store } = open(dir)
    expect([...'abcd'].map((id) => store.get(id)?.saldo)).toEqual([1, 2, undefined, undefined])
    expect(store.position(0)).toBe(2)
  })

  it('writes the group of a replay that is stopped before it ends', () => {
    const dir = tempDir()
    const first = open(dir).store
    first.apply(0, [put('a', 1)], 1, offsetsBefore(1, 1))
    first.close()
    expect(open(dir).store.get('a')?.saldo).toBe(1)
  })

  it('forgets everything on clear, on disk too', () => {
    const dir = filled(10)
    const first = open(dir).store
    first.clear()
    expect(first.loadedFromSnapshot).toBe(0)
    first.close()
    const { store } = open(dir)
    expect(store.size).toBe(0)
    expect(store.positions().size).toBe(0)
    expect(store.origin).toBeUndefined()
  })

  it('refuses a second holder of the same folder, naming the folder and the holder, until it is closed', () => {
    const dir = tempDir()
    const first = open(dir).store
    const second = () => open(dir)
    expect(second).toThrow(StateDirError)
    expect(second).toThrow(`STATE_DIR=${dir} is in use by another saldo-api (pid ${process.pid} on host`)
    first.close()
    expect(open(dir).store.size).toBe(0)
  })

  const corruptions: Array<[string, (path: string) => void]> = [
    [
      'garbage over the header',
      (path) => overwrite(path, 0, Buffer.from('this is not a database'.repeat(8))),
    ],
    [
      'truncated to half its size',
      (path) => truncateSync(path, Math.floor(statSync(path).size / 2 / 4096) * 4096),
    ],
    [
      'a page in the middle zeroed',
      (path) => overwrite(path, 4096 * Math.floor(statSync(path).size / 4096 / 2), Buffer.alloc(4096)),
    ],
  ]
  for (const [name, corrupt] of corruptions) {
    it(`moves a file with ${name} aside, warns and starts empty`, () => {
      const dir = filled(20_000)
      corrupt(join(dir, SNAPSHOT_FILE))

      const { store, lines } = open(dir)
      expect(store.size).toBe(0)
      expect(store.positions().size).toBe(0)
      const warning = lines.find((l) => l.level === 'warn')
      expect(warning?.msg).toContain('the local snapshot is corrupt; moved it aside')
      const aside = readdirSync(dir).filter((f) => f.startsWith(`${SNAPSHOT_FILE}.corrupt-`))
      expect(aside).toEqual([String(warning?.movedTo).slice(dir.length + 1)])

      // The fresh file works.
      store.apply(0, [put('x', 1)], 1, [0])
      store.close()
      expect(open(dir).store.get('x')?.saldo).toBe(1)
    })
  }

  it('keeps none of the rows streamed before a damage found half-way through the file', () => {
    const dir = filled(20_000)
    // The rows are read in key order: client-* (partition 0) stream in before 'one' (partition 1).
    const db = new Database(join(dir, SNAPSHOT_FILE))
    db.run('DELETE FROM checkpoints WHERE partition = 1')
    db.close()

    const { store, lines } = open(dir)
    expect(lines.find((l) => l.level === 'warn')?.msg).toContain(
      'the local snapshot is corrupt; moved it aside',
    )
    expect(store.size).toBe(0)
    expect(store.positions().size).toBe(0)
  })

  const otherSchemas: Array<[string, string]> = [
    ['an older schema', 'CREATE TABLE balances (id TEXT PRIMARY KEY, value TEXT)'],
    ['a newer schema', `CREATE TABLE balances (id TEXT); PRAGMA user_version = ${SCHEMA_VERSION + 1}`],
  ]
  for (const [name, sql] of otherSchemas) {
    it(`starts empty, with a warning, on a file of ${name}`, () => {
      const dir = tempDir()
      const db = new Database(join(dir, SNAPSHOT_FILE))
      db.run(sql)
      db.run("INSERT INTO balances (id) VALUES ('a')")
      db.close()
      const { store, lines } = open(dir)
      expect(store.size).toBe(0)
      expect(lines.find((l) => l.level === 'warn')?.msg).toContain('another schema version')
      store.apply(0, [put('x', 1)], 1, [0])
      expect(store.get('x')?.saldo).toBe(1)
    })
  }
})

/** What a second connection sees committed in the snapshot: its keys and checkpoints, in order. */
function onDisk(dir: string) {
  const db = new Database(join(dir, SNAPSHOT_FILE), { readonly: true })
  try {
    return {
      rows: db
        .query<{ id: string }, []>('SELECT cliente_id AS id FROM balances ORDER BY 1')
        .all()
        .map((r) => r.id),
      checkpoints: db
        .query<{ p: number; o: number }, []>(
          'SELECT partition AS p, next_offset AS o FROM checkpoints ORDER BY 1',
        )
        .all()
        .map((c) => [c.p, c.o]),
    }
  } finally {
    db.close()
  }
}

function overwrite(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+')
  writeSync(fd, bytes, 0, bytes.length, offset)
  closeSync(fd)
}
