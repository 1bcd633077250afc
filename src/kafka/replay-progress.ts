import { type Static, Type } from '@sinclair/typebox'
import type { HighWatermarks } from './high-watermarks.ts'

export const PartitionProgress = Type.Object({
  partition: Type.Integer(),
  position: Type.Integer({ description: 'next offset to read' }),
  endOffset: Type.Integer({ description: 'latest end offset (high watermark) seen, as in /stats' }),
  caughtUp: Type.Boolean({ description: "reached the end offset seen at boot: the replay's goal" }),
})
export type PartitionProgress = Static<typeof PartitionProgress>

export const Progress = Type.Object({
  ready: Type.Boolean(),
  partitions: Type.Array(PartitionProgress),
  remaining: Type.Integer({ description: 'offsets left to replay, to the end offsets seen at boot' }),
  replayedOffsets: Type.Integer({
    description: 'offsets replayed since boot, from the snapshot checkpoints or the beginning',
  }),
  recordsPerSecond: Type.Number(),
  etaSeconds: Type.Union([Type.Number(), Type.Null()]),
})
export type Progress = Static<typeof Progress>

/**
 * Tracks the replay: per partition, the position reached and the end offset seen at boot. A partition
 * is caught up when its position is at or past that end (compacted logs have gaps, so we compare
 * positions rather than wait for a record at end-1). Ready once every partition is caught up; it
 * stays ready while tailing. MODE=partitioned: the partitions held are the ownership group's to say,
 * so while they are unsettled (before the first assignment, and while an assignment's partitions are
 * added) it does not become ready; once settled, holding none is ready: every read is forwarded.
 */
export class ReplayProgress {
  /** The latest end offsets, which /ready reports; the replay's goal stays the one seen at boot. */
  readonly #live: HighWatermarks | undefined
  readonly #ends = new Map<number, number>()
  readonly #positions = new Map<number, number>()
  #ready = false
  #begun = false
  /** The state stopped matching the topic: not ready again before the next begin, whatever is applied. */
  #interrupted = false
  /** MODE=partitioned: the partitions held are being decided (see awaitHoldings). */
  #unsettled = false
  #startedAt = 0
  #startOffsets = 0
  #readyAt: number | undefined
  readonly #onReady: Array<() => void> = []

  constructor(live?: HighWatermarks) {
    this.#live = live
  }

  /** Starts a replay towards `ends`; `starts` are where each partition begins (checkpoint or log start). */
  begin(ends: ReadonlyMap<number, number>, starts: ReadonlyMap<number, number>, now = Date.now()): void {
    this.#ends.clear()
    this.#positions.clear()
    for (const [partition, end] of [...ends].sort(([a], [b]) => a - b)) {
      this.#ends.set(partition, end)
      this.#positions.set(partition, starts.get(partition) ?? 0)
    }
    this.#begun = true
    this.#interrupted = false
    this.#ready = false
    this.#readyAt = undefined
    this.#startedAt = now
    this.#startOffsets = this.#sumPositions()
    this.#check(now)
  }

  /**
   * MODE=partitioned: this instance now holds `partition` too, to be read from `start` up to `end`
   * (the end offset now); it is not ready again until that partition is caught up.
   */
  add(partition: number, end: number, start: number, now = Date.now()): void {
    this.#ends.set(partition, end)
    this.#positions.set(partition, start)
    this.#startOffsets += Math.min(start, end)
    this.#begun = true
    if (start < end) {
      this.#ready = false
      this.#readyAt = undefined
    }
    this.#check(now)
  }

  /**
   * MODE=partitioned: the partitions held are about to be decided (no assignment yet, or one being
   * followed): not ready until `holdingsSettled`. A ready instance that only loses partitions stays
   * ready meanwhile; one `gaining` a partition is not, until it is added and caught up.
   */
  awaitHoldings(gaining = false): void {
    this.#unsettled = true
    if (gaining) {
      this.#ready = false
      this.#readyAt = undefined
    }
  }

  /** MODE=partitioned: every partition held now has been added, or removed: ready once they are caught up (at once if none). */
  holdingsSettled(now = Date.now()): void {
    this.#unsettled = false
    if (!this.#ready) this.#check(now)
  }

  /** MODE=partitioned: this instance no longer holds `partition` (the offsets replayed so far stay counted). */
  remove(partition: number, now = Date.now()): void {
    const position = this.#positions.get(partition)
    if (position === undefined) return
    this.#startOffsets -= Math.min(position, this.#ends.get(partition) ?? position)
    this.#ends.delete(partition)
    this.#positions.delete(partition)
    if (!this.#ready) this.#check(now)
  }

  /** The partition is held and reached the end offset seen when its replay began. */
  caughtUp(partition: number): boolean {
    const end = this.#ends.get(partition)
    return end !== undefined && (this.#positions.get(partition) ?? 0) >= end
  }

  /**
   * The state no longer matches the topic (it went backwards): reads wait for the next replay. Batches
   * of other partitions may still be applied before the consumer stops; they do not make it ready.
   */
  interrupt(): void {
    this.#interrupted = true
    this.#ready = false
    this.#readyAt = undefined
  }

  /** Records that `partition` has been applied up to (not including) `position`. */
  advance(partition: number, position: number, now = Date.now()): void {
    if (position > (this.#positions.get(partition) ?? 0)) this.#positions.set(partition, position)
    if (!this.#ready) this.#check(now)
  }

  get ready(): boolean {
    return this.#ready
  }

  /** Partitions of the topic this replay is towards (0 before begin). */
  get partitionCount(): number {
    return this.#ends.size
  }

  /** Milliseconds from begin to ready, once ready. */
  get replayMs(): number | undefined {
    return this.#readyAt === undefined ? undefined : this.#readyAt - this.#startedAt
  }

  /** Milliseconds from begin to ready, or to `now` while replaying; 0 before begin. */
  elapsedMs(now = Date.now()): number {
    return this.#begun ? (this.#readyAt ?? now) - this.#startedAt : 0
  }

  /** Offsets replayed since begin (an upper bound on records: compaction leaves gaps). */
  get replayedOffsets(): number {
    return this.#sumPositions() - this.#startOffsets
  }

  /** Calls `listener` once, when ready (at once if already ready). */
  onReady(listener: () => void): void {
    if (this.#ready) listener()
    else this.#onReady.push(listener)
  }

  snapshot(now = Date.now()): Progress {
    let remaining = 0
    // In order: MODE=partitioned adds partitions as they are gained.
    const partitions = [...this.#ends]
      .sort(([a], [b]) => a - b)
      .map(([partition, goal]) => {
        const position = this.#positions.get(partition) ?? 0
        remaining += Math.max(0, goal - position)
        const endOffset = this.#live?.entries().get(partition) ?? goal
        return { partition, position, endOffset, caughtUp: position >= goal }
      })
    const replayedOffsets = this.replayedOffsets
    const seconds = this.elapsedMs(now) / 1000
    const recordsPerSecond = seconds > 0 ? Math.round(replayedOffsets / seconds) : 0
    const etaSeconds =
      remaining === 0 ? 0 : recordsPerSecond > 0 ? Math.ceil(remaining / recordsPerSecond) : null
    return { ready: this.#ready, partitions, remaining, replayedOffsets, recordsPerSecond, etaSeconds }
  }

  #sumPositions(): number {
    let sum = 0
    for (const [partition, position] of this.#positions) {
      sum += Math.min(position, this.#ends.get(partition) ?? position)
    }
    return sum
  }

  #check(now: number): void {
    if (!this.#begun || this.#unsettled || this.#interrupted) return
    for (const [partition, end] of this.#ends) {
      if ((this.#positions.get(partition) ?? 0) < end) return
    }
    this.#ready = true
    this.#readyAt = now
    for (const listener of this.#onReady.splice(0)) listener()
  }
}
