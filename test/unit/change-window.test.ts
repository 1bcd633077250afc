import { describe, expect, it } from 'bun:test'
import { ChangeWindow } from '../../src/events/change-window.ts'

const put = (saldo: number) =>
  ({ kind: 'put', balance: { cliente_id: 'k', saldo, timestamp: '2025-10-14T10:30:45' } }) as const

function kept(window: ChangeWindow): Array<[number, number | undefined]> {
  const seen: Array<[number, number | undefined]> = []
  window.forEachAfter(0, (seq, _partition, _offset, _id, balance) => seen.push([seq, balance?.saldo]))
  return seen
}

describe('ChangeWindow', () => {
  it('advances by numbering changes and forgetting what it kept: no older change looks newer', () => {
    const window = new ChangeWindow(3, 1024 * 1024)
    window.push(0, 0, put(1))
    window.push(0, 1, put(2))
    window.advance(2)
    expect(window.size).toBe(0)
    expect(window.bytes).toBe(0)
    expect(window.oldestSeq).toBe(5)
    window.push(0, 4, put(5))
    expect(kept(window)).toEqual([[5, 5]])
    window.advance(0)
    expect(kept(window)).toEqual([[5, 5]])
  })
})
