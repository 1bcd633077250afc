import { REJECT_REASONS, type RejectReason } from '../balance.ts'
import type { Config } from '../config.ts'
import { type Change, changeKey } from '../store/store.ts'

type ForeignPolicy = Config['FOREIGN_PARTITION']

/** Counters of what the materializer did with the records it read. */
export class ApplyStats {
  applied = 0
  tombstones = 0
  readonly rejected = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>
  /** Records on another partition than murmur2(key) puts them on, applied or not. */
  foreignPartition = 0
  /** Times the state was thrown away and rebuilt from the topic. */
  rebuilds = 0
  /** The first of them, for the warning. */
  foreignExample: { key: string; partition: number; expected: number } | undefined

  get rejectedTotal(): number {
    return Object.values(this.rejected).reduce((sum, n) => sum + n, 0)
  }

  /** Counts a record on a foreign partition; returns the warning to log when it is the first. */
  countForeign(
    change: Change,
    partition: number,
    expected: number,
    policy: ForeignPolicy,
  ): string | undefined {
    this.foreignPartition++
    if (this.foreignExample) return undefined
    this.foreignExample = { key: changeKey(change), partition, expected }
    return this.foreignWarning(policy)
  }

  /** What an operator should know of the foreign records, once one was read. */
  foreignWarning(policy: ForeignPolicy): string | undefined {
    const example = this.foreignExample
    if (!example) return undefined
    return (
      `records were read on another partition than murmur2(key) puts them on (${this.foreignPartition} since start; e.g. key ` +
      `${JSON.stringify(example.key)} on partition ${example.partition}, not ${example.expected}): their producer ` +
      'does not partition like the Java client, so one client can live on two partitions and a replay may ' +
      'keep another value than this instance. Fix the producer (kcat or librdkafka: -X topic.partitioner=murmur2_random); ' +
      `FOREIGN_PARTITION=${policy}: such records are ${policy === 'accept' ? 'applied' : 'rejected'}`
    )
  }
}
