import { describe, expect, it } from 'bun:test'
import { MemoryStore } from '../../src/store/memory-store.ts'
import type { Change } from '../../src/store/store.ts'
import { TombstoneOutcomes } from '../../src/store/tombstone-outcomes.ts'

const put = (id: string): Change => ({
  kind: 'put',
  balance: { cliente_id: id, saldo: 1, timestamp: '2025-10-14T10:30:45' },
})
const del = (id: string): Change => ({ kind: 'delete', clienteId: id })

describe('TombstoneOutcomes', () => {
  it('says whether the client had a balance just before each tombstone, following the batch in order', () => {
    const store = new MemoryStore()
    store.apply(0, [put('a')], 1, [0])
    const outcomes = new TombstoneOutcomes()
    const a = outcomes.watch('a')
    const b = outcomes.watch('b')
    // a: held, deleted (true), deleted again (false). b: put then deleted in the same batch (true).
    outcomes.beforeApply(store, 0, [del('a'), put('b'), del('a'), del('b')], [1, 2, 3, 4])
    expect([a.existedBefore(0, 1), a.existedBefore(0, 3), b.existedBefore(0, 4)]).toEqual([true, false, true])
    expect(a.existedBefore(0, 2)).toBeUndefined()
  })

  it('keeps nothing for clients nobody waits for, and forgets a client once its last watcher closes', () => {
    const store = new MemoryStore()
    const outcomes = new TombstoneOutcomes()
    const first = outcomes.watch('a')
    const second = outcomes.watch('a')
    first.close()
    outcomes.beforeApply(store, 0, [del('a')], [0])
    expect(second.existedBefore(0, 0)).toBe(false)
    second.close()
    const later = outcomes.watch('a')
    expect(later.existedBefore(0, 0)).toBeUndefined()
    outcomes.beforeApply(store, 0, [del('zzz')], [1])
    expect(later.existedBefore(0, 1)).toBeUndefined()
  })
})
