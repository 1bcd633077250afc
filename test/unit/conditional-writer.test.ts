import { describe, expect, it } from 'bun:test'
import { ConditionalWriter, PartitionBehind } from '../../src/kafka/conditional-writer.ts'
import { PositionWatch } from '../../src/store/position-watch.ts'

const TOPIC = 'contas'
const balance = { cliente_id: 'k', saldo: 1, timestamp: '2026-12-08T10:00:00' }

/** A promise, and what resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {}
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { opened, open }
}

describe('ConditionalWriter', () => {
  it('keeps a takeover that comes while an earlier write reads the end offsets: the next write reads them again', async () => {
    // This instance applied partition 0 up to 5, and stays there.
    const positions = new Map([[0, 5]])
    const watch = new PositionWatch({ positions: () => positions, position: (p) => positions.get(p) ?? 0 })
    const reading = gate()
    const answer = gate()
    const reads: number[] = []
    const writer = new ConditionalWriter({
      topic: TOPIC,
      partitions: () => 1,
      watches: new Map([[TOPIC, watch]]),
      owner: {
        take: async (partition) => ({ partition, acquisition: 1 }),
        append: async (_lease, records) => records.map((_, i) => ({ partition: 0, offset: 100 + i })),
      },
      // The first read answers late, with the end as it was then (5); by the second the other owner
      // of the meantime wrote up to 9.
      endOffsets: async (topics) => {
        reads.push(reads.length)
        if (reads.length === 1) {
          reading.open()
          await answer.opened
          return new Map(topics.map((topic) => [topic, 5]))
        }
        return new Map(topics.map((topic) => [topic, 9]))
      },
      waitMs: 100,
    })
    writer.readFirst(0)
    const first = writer.put(balance, () => {
      throw new Error('the condition refused it')
    })
    await reading.opened
    // Lost and taken back meanwhile: what the other owner wrote is to be read first again.
    writer.readFirst(0)
    answer.open()
    await expect(first).rejects.toThrow('the condition refused it')
    // The next conditional write reads the end again (9) and cannot decide at 5: nothing is written.
    const second = writer.put(balance, () => {})
    await expect(second).rejects.toBeInstanceOf(PartitionBehind)
    expect(reads).toHaveLength(2)
  })
})
