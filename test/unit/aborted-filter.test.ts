import { describe, expect, it } from 'bun:test'

interface Fetched {
  offset: string
  key: Buffer | null
  isControlRecord: boolean
  batchContext: { producerId: string; inTransaction: boolean }
}
// kafkajs' read_committed filter (patched: scripts/patches/kafkajs@2.2.4.patch), as a fetch response
// feeds it: the records, and the aborted transactions the broker lists for the fetched range.
const filterAbortedMessages: (fetch: {
  messages: Fetched[]
  abortedTransactions: Array<{ producerId: string; firstOffset: string }>
}) => Fetched[] = require('kafkajs/src/consumer/filterAbortedMessages.js')

const record = (offset: number, producerId: string, inTransaction = true): Fetched => ({
  offset: String(offset),
  key: Buffer.from('k'),
  isControlRecord: false,
  batchContext: { producerId, inTransaction },
})
const abortMarker = (offset: number, producerId: string): Fetched => ({
  ...record(offset, producerId),
  key: Buffer.from([0, 0, 0, 0]),
  isControlRecord: true,
})

describe('the read_committed filter of aborted transactions', () => {
  it('drops the records of every aborted transaction that began before the fetch, not only the first', () => {
    // Producers 1 and 2 each began a transaction (at 5 and 6) that was later aborted; this fetch
    // starts at 8, inside both. Unpatched, the record at 8 (producer 2's) was returned.
    const kept = filterAbortedMessages({
      messages: [record(8, '2'), record(9, '1'), abortMarker(10, '1'), abortMarker(11, '2'), record(12, '2')],
      abortedTransactions: [
        { producerId: '1', firstOffset: '5' },
        { producerId: '2', firstOffset: '6' },
      ],
    })
    expect(kept.map((m) => Number(m.offset))).toEqual([10, 11, 12])
  })

  it('keeps committed and non-transactional records around an aborted transaction', () => {
    const kept = filterAbortedMessages({
      messages: [record(0, '1'), record(1, '3', false), record(2, '1'), abortMarker(3, '1'), record(4, '1')],
      abortedTransactions: [{ producerId: '1', firstOffset: '2' }],
    })
    expect(kept.map((m) => Number(m.offset))).toEqual([0, 1, 3, 4])
  })

  it('drops an aborted transaction that began first but ended after another (the broker lists them as they ended)', () => {
    // Producer 1 began at 5, producer 2 at 6; 2 aborted first (marker at 8), then 1 (marker at 10).
    const kept = filterAbortedMessages({
      messages: [
        record(5, '1'),
        record(6, '2'),
        record(7, '1'),
        abortMarker(8, '2'),
        record(9, '1'),
        abortMarker(10, '1'),
      ],
      abortedTransactions: [
        { producerId: '2', firstOffset: '6' },
        { producerId: '1', firstOffset: '5' },
      ],
    })
    expect(kept.map((m) => Number(m.offset))).toEqual([8, 10])
  })

  it('ends an aborted transaction only at its control record, not at a data record keyed like one', () => {
    const lookalike = { ...record(3, '1'), key: Buffer.from([0, 0, 0, 0]) }
    const kept = filterAbortedMessages({
      messages: [record(2, '1'), lookalike, record(4, '1'), abortMarker(5, '1'), record(6, '3', false)],
      abortedTransactions: [{ producerId: '1', firstOffset: '2' }],
    })
    expect(kept.map((m) => Number(m.offset))).toEqual([5, 6])
  })
})
