import { describe, expect, it } from 'bun:test'
import type { Message } from 'kafkajs'
import { sendBulk } from '../../src/kafka/bulk.ts'
import { balanceAt, balanceMessage, tombstoneMessage } from '../../src/kafka/producer.ts'
import { decodeRecord } from '../../src/record.ts'

const asBuffer = (value: Message['value'] | Message['key']) =>
  value === null || value === undefined ? null : Buffer.from(value as string)

describe('the records saldo-produce writes', () => {
  it("are the seed's format, which the materializer accepts", () => {
    const message = balanceMessage(balanceAt('3', 300))
    const decoded = decodeRecord(asBuffer(message.key), asBuffer(message.value))
    expect(decoded).toMatchObject({ kind: 'put', balance: { cliente_id: '3', saldo: 300 } })
    expect(Object.keys(JSON.parse(String(message.value)))).toEqual(['cliente_id', 'saldo', 'timestamp'])
  })

  it('delete a key with a tombstone', () => {
    const message = tombstoneMessage('3')
    expect(decodeRecord(asBuffer(message.key), asBuffer(message.value))).toEqual({
      kind: 'delete',
      clienteId: '3',
    })
  })
})

describe('sendBulk', () => {
  it('sends every record once, in batches, over ids 1..keys', async () => {
    const batches: Message[][] = []
    const progress: number[] = []
    const result = await sendBulk(
      async (messages) => {
        batches.push(messages)
      },
      { count: 25, keys: 4, batchSize: 10, onProgress: (sent) => progress.push(sent) },
    )
    expect(result.sent).toBe(25)
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5])
    const keys = batches.flat().map((m) => String(m.key))
    expect(new Set(keys)).toEqual(new Set(['1', '2', '3', '4']))
    expect(progress).toEqual([10, 20, 25])
    for (const m of batches.flat()) {
      expect(decodeRecord(asBuffer(m.key), asBuffer(m.value)).kind).toBe('put')
    }
  })

  it('keeps at most inFlight sends waiting at once', async () => {
    let waiting = 0
    let most = 0
    await sendBulk(
      async () => {
        most = Math.max(most, ++waiting)
        await Promise.resolve()
        waiting--
      },
      { count: 100, keys: 100, batchSize: 5, inFlight: 3 },
    )
    expect(most).toBe(3)
  })

  it('makes smaller batches when a rate is set', async () => {
    const sizes: number[] = []
    await sendBulk(
      async (messages) => {
        sizes.push(messages.length)
      },
      { count: 200, keys: 10, rate: 2_000 },
    )
    // 2000 records/s in 20 sends a second: 100 per send.
    expect(sizes).toEqual([100, 100])
  })

  it('stops generating when aborted and fails with the first send error', async () => {
    const abort = new AbortController()
    let sends = 0
    const stopped = await sendBulk(
      async () => {
        if (++sends === 2) abort.abort()
      },
      { count: 100, keys: 100, batchSize: 10, inFlight: 1, signal: abort.signal },
    )
    expect(stopped.sent).toBe(20)
    const failing = sendBulk(
      async () => {
        throw new Error('broker said no')
      },
      { count: 100, keys: 100, batchSize: 10 },
    )
    await expect(failing).rejects.toThrow('broker said no')
  })
})
