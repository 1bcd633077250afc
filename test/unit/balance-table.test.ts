import { describe, expect, it } from 'bun:test'
import type { Balance } from '../../src/balance.ts'
import { BalanceTable } from '../../src/store/balance-table.ts'
import type { Change } from '../../src/store/store.ts'

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  let state = seed
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

const timestamps = [
  '2025-10-14T10:30:45',
  '2025-10-14T10:30:45.123Z',
  '2025-10-14T10:30',
  '2025-10-14T10:30:45+01:00',
]

/** One balance set, as a batch of one change. */
const put = (table: BalanceTable, balance: Balance, partition: number, offset: number) =>
  table.apply(partition, [{ kind: 'put', balance }], [offset])

/** One key deleted, as a batch of one tombstone. */
const remove = (table: BalanceTable, clienteId: string) =>
  table.apply(0, [{ kind: 'delete', clienteId }], [0])

describe('BalanceTable', () => {
  it('behaves like a Map under a long random mix of sets, updates and deletes, applied in batches', () => {
    const next = random(42)
    const table = new BalanceTable()
    const reference = new Map<string, Balance>()
    const ids = ['ü', '客户-7', 'a'.repeat(128), ...Array.from({ length: 5000 }, (_, i) => String(i))]
    let step = 0
    while (step < 200_000) {
      // Batches of 1 to 100 changes: across the read-ahead's groups, with a key often twice in one.
      const changes: Change[] = []
      const offsets: number[] = []
      for (let size = 1 + Math.floor(next() * 100); size > 0; size--, step++) {
        const id = ids[Math.floor(next() * ids.length)] as string
        if (next() < 0.2) {
          changes.push({ kind: 'delete', clienteId: id })
          reference.delete(id)
        } else {
          const balance = {
            cliente_id: id,
            saldo: Math.round(next() * 1e6) / 100 - 5000,
            timestamp: timestamps[Math.floor(next() * timestamps.length)] as string,
          }
          changes.push({ kind: 'put', balance })
          reference.set(id, balance)
        }
        offsets.push(step)
      }
      table.apply(0, changes, offsets)
      expect(table.size).toBe(reference.size)
    }
    for (const id of ids) expect(table.get(id)).toEqual(reference.get(id))
    expect([...table.values()].sort((a, b) => a.cliente_id.localeCompare(b.cliente_id))).toEqual(
      [...reference.values()].sort((a, b) => a.cliente_id.localeCompare(b.cliente_id)),
    )
  })

  it('drops the keys of one partition and keeps the others, reusing their room', () => {
    const table = new BalanceTable()
    for (let i = 0; i < 3000; i++) put(table, { cliente_id: `k${i}`, saldo: i, timestamp: 't' }, i % 3, i)
    expect(table.dropPartition(1)).toBe(1000)
    expect(table.size).toBe(2000)
    expect(table.get('k1')).toBeUndefined()
    expect(table.get('k3')?.saldo).toBe(3)
    expect(table.etag('k5')).toBe('"2-5"')
    put(table, { cliente_id: 'k1', saldo: -1, timestamp: 't' }, 1, 9000)
    expect(table.get('k1')?.saldo).toBe(-1)
    expect(table.dropPartition(7)).toBe(0)
  })

  it('grows past its first capacity and compacts its arena without losing a balance', () => {
    const table = new BalanceTable()
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 50_000; i++) {
        put(table, { cliente_id: `client-${i}`, saldo: round, timestamp: timestamps[round] as string }, 0, i)
      }
    }
    for (let i = 0; i < 50_000; i += 2) remove(table, `client-${i}`)
    expect(table.size).toBe(25_000)
    expect(table.get('client-1')).toEqual({
      cliente_id: 'client-1',
      saldo: 3,
      timestamp: timestamps[3] as string,
    })
    expect(table.get('client-2')).toBeUndefined()
  })

  it('answers undefined for keys it cannot hold, refuses to store them, and can be cleared', () => {
    const table = new BalanceTable()
    expect(table.get('x'.repeat(300))).toBeUndefined()
    const at = (cliente_id: string): Change => ({
      kind: 'put',
      balance: { cliente_id, saldo: 1, timestamp: timestamps[0] as string },
    })
    // A key too long to hold is never there to delete: the batch goes on.
    table.apply(0, [at('1'), { kind: 'delete', clienteId: 'x'.repeat(300) }, at('2')], [0, 1, 2])
    expect(table.size).toBe(2)
    // A put it cannot store throws: the changes before it are applied, those after it are not.
    expect(() => table.apply(0, [at('3'), at('x'.repeat(300)), at('4')], [3, 4, 5])).toThrow(RangeError)
    expect(table.get('3')?.saldo).toBe(1)
    expect(table.get('4')).toBeUndefined()
    table.clear()
    expect(table.size).toBe(0)
    expect(table.get('1')).toBeUndefined()
  })

  it('stores each timestamp as given, after one it refused and between non-ASCII ones', () => {
    const table = new BalanceTable()
    const stamped = (cliente_id: string, timestamp: string) => ({ cliente_id, saldo: 1, timestamp })
    put(table, stamped('a', '2025-10-14T10:30:45'), 0, 0)
    // 256 bytes of UTF-8: refused, and what its encoding left behind is not taken for the next one.
    expect(() => put(table, stamped('b', 'é'.repeat(128)), 0, 1)).toThrow(RangeError)
    put(table, stamped('c', '2025-10-14T10:30:45'), 0, 2)
    put(table, stamped('d', '2025-10-14T10:30:45ü'), 0, 3)
    put(table, stamped('e', '2025-10-14T10:30:45ü'), 0, 4)
    put(table, stamped('a', '2025-10-14T10:30:46'), 0, 5)
    expect([...'acde'].map((id) => table.get(id)?.timestamp)).toEqual([
      '2025-10-14T10:30:46',
      '2025-10-14T10:30:45',
      '2025-10-14T10:30:45ü',
      '2025-10-14T10:30:45ü',
    ])
    expect(table.get('b')).toBeUndefined()
  })

  it('names the record that set each key as "partition-offset", past growth, updates and deletes', () => {
    const table = new BalanceTable()
    for (let i = 0; i < 5000; i++)
      put(table, { cliente_id: `c${i}`, saldo: i, timestamp: timestamps[0] as string }, i % 7, i)
    put(table, { cliente_id: 'c3', saldo: 1, timestamp: timestamps[1] as string }, 3, 2 ** 40)
    remove(table, 'c4')
    expect(table.etag('c3')).toBe(`"3-${2 ** 40}"`)
    expect(table.etag('c4999')).toBe('"1-4999"')
    expect(table.etag('c4')).toBeUndefined()
    expect(table.etag('x'.repeat(300))).toBeUndefined()
  })

  it("answers a key's balance and ETag together, as GET /saldo sends them", () => {
    const table = new BalanceTable()
    put(table, { cliente_id: 'a"é', saldo: 150.5, timestamp: timestamps[1] as string }, 2, 41)
    put(table, { cliente_id: 'b', saldo: -0.1, timestamp: timestamps[0] as string }, 0, 7)
    expect(table.answer('a"é')).toEqual({
      balance: { cliente_id: 'a"é', saldo: 150.5, timestamp: '2025-10-14T10:30:45.123Z' },
      etag: '"2-41"',
    })
    expect(table.answer('b')?.balance).toEqual(table.get('b') as Balance)
    expect(table.answer('c')).toBeUndefined()
  })

  it('marks the keys set since clearMarks, once each and in key order, leaving out those deleted since', () => {
    const table = new BalanceTable()
    const at = (id: string, saldo = 1) => put(table, { cliente_id: id, saldo, timestamp: '2025-10-14' }, 0, 1)
    at('before')
    expect(table.marked).toBe(0)
    table.trackChanges()
    for (const id of ['c', 'a', 'b', 'a', 'gone']) at(id)
    remove(table, 'gone')
    // A freed entry taken by another key is that key's.
    at('z')
    expect([...table.markedKeys()]).toEqual(['a', 'b', 'c', 'z'])
    expect(table.row('a')).toEqual({
      balance: { cliente_id: 'a', saldo: 1, timestamp: '2025-10-14' },
      partition: 0,
      offset: 1,
    })
    table.clearMarks()
    at('before', 2)
    expect([...table.markedKeys()]).toEqual(['before'])
  })

  it('takes the keys a reservation was made for without growing again', () => {
    const table = new BalanceTable()
    put(table, { cliente_id: 'x', saldo: 1, timestamp: 't' }, 0, 0)
    table.reserve(5000, 5000 * 12)
    for (let i = 0; i < 5000; i++) table.setFields(`key-${i}`, i, '2025-10-14', 1, i)
    expect(table.size).toBe(5001)
    expect(table.get('key-4999')?.saldo).toBe(4999)
    expect(table.etag('x')).toBe('"0-0"')
  })
})
