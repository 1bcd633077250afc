import { REJECT_REASONS, type RejectReason } from '../balance.ts'

/** Counters of what the materializer did with the records it read. */
export class ApplyStats {
  applied = 0
  tombstones = 0
  readonly rejected = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>
  /** Records on another partition than murmur2(key) puts them on, applied or not. */
  foreignPartition = 0
  /** The first of them, for the warning. */
  foreignExample: { key: string; partition: number; expected: number } | undefined

  get rejectedTotal(): number {
    return Object.values(this.rejected).reduce((sum, n) => sum + n, 0)
  }
}
