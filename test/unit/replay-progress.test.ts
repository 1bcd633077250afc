import { describe, expect, it } from 'bun:test'
import { HighWatermarks } from '../../src/kafka/high-watermarks.ts'
import { ReplayProgress } from '../../src/kafka/replay-progress.ts'

const map = (entries: Array<[number, number]>) => new Map(entries)
/** What HeldPartitions does with an assignment: the partitions held change while unsettled. */
const follow = (progress: ReplayProgress, change: () => void) => {
  progress.awaitHoldings()
  change()
  progress.holdingsSettled()
}

describe('ReplayProgress', () => {
  it('follows the partitions it is given and loses (MODE=partitioned): ready when those held are caught up', () => {
    const progress = new ReplayProgress()
    progress.begin(map([[0, 5]]), map([[0, 0]]))
    progress.advance(0, 5)
    expect(progress.ready).toBe(true)
    progress.add(3, 10, 4)
    expect([progress.ready, progress.caughtUp(0), progress.caughtUp(3)]).toEqual([false, true, false])
    expect(progress.replayedOffsets).toBe(5)
    progress.advance(3, 10)
    expect([progress.ready, progress.caughtUp(3), progress.replayedOffsets]).toEqual([true, true, 11])
    progress.add(4, 8, 0)
    progress.remove(4)
    expect([progress.ready, progress.caughtUp(4), progress.replayedOffsets]).toEqual([true, false, 11])
    expect(progress.snapshot().partitions.map((p) => p.partition)).toEqual([0, 3])
  })

  it('MODE=partitioned: is not ready before its holdings are settled, and ready holding none once they are', () => {
    const progress = new ReplayProgress()
    progress.awaitHoldings()
    progress.begin(map([]), map([]))
    expect(progress.ready).toBe(false)
    progress.holdingsSettled()
    expect(progress.ready).toBe(true)
    expect(progress.snapshot()).toMatchObject({ ready: true, partitions: [], remaining: 0 })
  })

  it('MODE=partitioned: stays ready when it loses every partition, and is not ready again until a gained one is caught up', () => {
    const progress = new ReplayProgress()
    progress.awaitHoldings()
    follow(progress, () => progress.begin(map([[0, 5]]), map([[0, 5]])))
    expect(progress.ready).toBe(true)
    follow(progress, () => progress.remove(0))
    expect([progress.ready, progress.partitionCount]).toEqual([true, 0])
    progress.awaitHoldings(true)
    expect(progress.ready).toBe(false)
    progress.add(1, 10, 0)
    progress.holdingsSettled()
    expect(progress.ready).toBe(false)
    progress.advance(1, 10)
    expect(progress.ready).toBe(true)
  })

  it('MODE=partitioned: is ready again at once when the partition it gains is caught up already (empty, or at its checkpoint)', () => {
    const progress = new ReplayProgress()
    follow(progress, () => progress.begin(map([]), map([])))
    progress.awaitHoldings(true)
    expect(progress.ready).toBe(false)
    progress.add(2, 7, 7)
    progress.holdingsSettled()
    expect(progress.ready).toBe(true)
  })

  it('MODE=partitioned: does not become ready between losing a partition and adding the one gained in its place', () => {
    const progress = new ReplayProgress()
    progress.begin(map([[0, 10]]), map([[0, 0]]))
    follow(progress, () => {
      progress.remove(0)
      expect(progress.ready).toBe(false)
      progress.add(1, 5, 0)
    })
    expect(progress.ready).toBe(false)
    progress.advance(1, 5)
    expect(progress.ready).toBe(true)
  })

  it('reports the live end offset (as /stats does) while the replay goal stays the one seen at boot', () => {
    const live = new HighWatermarks()
    const progress = new ReplayProgress(live)
    live.observe(0, 10)
    progress.begin(map([[0, 10]]), map([[0, 0]]))
    progress.advance(0, 10)
    live.observe(0, 15)
    expect(progress.snapshot().partitions).toEqual([
      { partition: 0, position: 10, endOffset: 15, caughtUp: true },
    ])
    expect(progress.ready).toBe(true)
  })

  it('is ready at once when every partition is empty', () => {
    const progress = new ReplayProgress()
    progress.begin(
      map([
        [0, 0],
        [1, 0],
      ]),
      map([
        [0, 0],
        [1, 0],
      ]),
    )
    expect(progress.ready).toBe(true)
  })

  it('is ready at once when the log start is already at the end (all records deleted)', () => {
    const progress = new ReplayProgress()
    progress.begin(map([[0, 50]]), map([[0, 50]]))
    expect(progress.ready).toBe(true)
  })

  it('waits for every partition, comparing positions (compaction leaves gaps)', () => {
    const progress = new ReplayProgress()
    let readyCalls = 0
    progress.onReady(() => readyCalls++)
    progress.begin(
      map([
        [0, 100],
        [1, 10],
      ]),
      map([
        [0, 0],
        [1, 0],
      ]),
      0,
    )
    progress.advance(1, 10, 100)
    expect(progress.ready).toBe(false)
    progress.advance(0, 60, 1000)
    expect(progress.snapshot(1000)).toMatchObject({
      ready: false,
      remaining: 40,
      recordsPerSecond: 70,
      etaSeconds: 1,
    })
    progress.advance(0, 105, 2000)
    expect(progress.ready).toBe(true)
    expect(readyCalls).toBe(1)
    expect(progress.replayMs).toBe(2000)
    expect(progress.snapshot().partitions).toEqual([
      { partition: 0, position: 105, endOffset: 100, caughtUp: true },
      { partition: 1, position: 10, endOffset: 10, caughtUp: true },
    ])
  })

  it('is not ready again after an interrupt until the next replay begins, whatever is applied meanwhile', () => {
    const progress = new ReplayProgress()
    /** A replay of every partition from 0 to its end in `ends`, applied to the end. */
    const replayed = (ends: Array<[number, number]>) => {
      progress.begin(map(ends), map(ends.map(([partition]) => [partition, 0])))
      for (const [partition, end] of ends) progress.advance(partition, end)
    }
    replayed([
      [0, 10],
      [1, 10],
    ])
    expect(progress.ready).toBe(true)
    // Partition 0 went backwards; partition 1's batch of the same fetch is still applied after it.
    progress.interrupt()
    progress.advance(1, 12)
    progress.holdingsSettled()
    progress.add(2, 0, 0)
    expect(progress.ready).toBe(false)
    replayed([
      [0, 3],
      [1, 12],
    ])
    expect(progress.ready).toBe(true)
  })

  it('never moves a position backwards', () => {
    const progress = new ReplayProgress()
    progress.begin(map([[0, 10]]), map([[0, 0]]))
    progress.advance(0, 8)
    progress.advance(0, 3)
    expect(progress.snapshot().partitions[0]?.position).toBe(8)
  })

  it('lists partitions in order, whatever order the broker gave them in', () => {
    const progress = new ReplayProgress()
    progress.begin(
      map([
        [2, 0],
        [0, 0],
        [1, 0],
      ]),
      map([]),
    )
    expect(progress.snapshot().partitions.map((p) => p.partition)).toEqual([0, 1, 2])
  })

  it('counts replayed offsets from where each partition starts (a checkpoint), not from 0', () => {
    const progress = new ReplayProgress()
    progress.begin(
      map([
        [0, 100],
        [1, 50],
      ]),
      map([
        [0, 90],
        [1, 50],
      ]),
    )
    expect(progress.snapshot()).toMatchObject({ ready: false, remaining: 10, replayedOffsets: 0 })
    progress.advance(0, 100)
    expect(progress.snapshot()).toMatchObject({ ready: true, remaining: 0, replayedOffsets: 10 })
  })
})
