import { describe, expect, it } from 'bun:test'
import { type CheckedRead, longestUnavailableRun, missesAfter } from '../../scripts/bench/checked-reads.ts'

/** An answer of `kind` on `partition`, sent at `sentAt` and answered at `at`. */
const read = (
  kind: CheckedRead['kind'],
  partition: number,
  sentAt: number,
  at = sentAt + 1,
): CheckedRead => ({
  kind,
  partition,
  sentAt,
  at,
})

describe('the failover figures of checked reads', () => {
  it('times the first and the last answer after the kill that was not a right 200', () => {
    const reads = [
      read('unavailable', 0, 0, 5),
      read('right', 0, 10, 20),
      read('wrong', 1, 95, 130),
      read('right', 1, 130, 140),
      read('notFound', 0, 200, 250),
      read('right', 0, 260, 270),
    ]
    expect(missesAfter(reads, 100)).toEqual({ firstMs: 30, lastMs: 150 })
    expect(
      missesAfter(
        reads.filter((r) => r.kind === 'right'),
        100,
      ),
    ).toEqual({ firstMs: 0, lastMs: 0 })
  })

  it("measures a partition's longest run of 503s from the first sent to the last answered", () => {
    const reads = [
      read('unavailable', 0, 100, 120),
      // Sent before the first of the run, answered after it: the run starts at its sending.
      read('unavailable', 0, 90, 160),
      read('unavailable', 1, 0, 1_000),
      read('right', 0, 170, 180),
      read('unavailable', 0, 300, 310),
      // A 404 does not end a run of 503s; only a right answer does.
      read('notFound', 0, 310, 315),
      read('unavailable', 0, 320, 330),
    ]
    expect(longestUnavailableRun(reads, 0)).toBe(70)
    expect(longestUnavailableRun(reads, 1)).toBe(1_000)
    expect(longestUnavailableRun(reads, 2)).toBe(0)
  })
})
