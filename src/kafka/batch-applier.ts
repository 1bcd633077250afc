import type { Batch, KafkaMessage } from 'kafkajs'
import type { Config } from '../config.ts'
import type { Logger } from '../log.ts'
import { decodeRecord, decodeRecordInPlace, type RecordInPlace } from '../record.ts'
import type { BalanceStore, Change } from '../store/store.ts'
import type { TombstoneOutcomes } from '../store/tombstone-outcomes.ts'
import type { ApplyNumbers } from './apply-numbers.ts'
import { murmur2Partition } from './partitioning.ts'
import type { RejectLog } from './reject-log.ts'

/**
 * Called after each applied batch, in offset order per partition; `offsets[i]` is the offset of
 * `changes[i]`. Called on the apply loop: a listener must return quickly and never wait.
 */
export type ApplyListener = (
  partition: number,
  changes: readonly Change[],
  nextOffset: number,
  offsets: readonly number[],
) => void

/**
 * What the applier reads of a fetched batch: a kafkajs Batch, whose records our patch leaves in the
 * fetched bytes (RecordInPlace), or a test's records.
 */
export type FetchedBatch = Pick<Batch, 'topic' | 'partition' | 'highWatermark' | 'lastOffset'> & {
  messages: ReadonlyArray<Pick<KafkaMessage, 'offset' | 'key' | 'value'> & Partial<RecordInPlace>>
}

export interface PartitionApplierDeps {
  partition: number
  /** The partition count of the topic the state is built from: where murmur2 puts each key. */
  partitions: number
  store: BalanceStore
  /** Where the counters, end offsets and replay progress this applier moves live. */
  numbers: ApplyNumbers
  /** Told of each batch before it is applied, for DELETEs that wait for their tombstone. */
  outcomes: TombstoneOutcomes
  rejects: RejectLog
  log: Logger
  config: Pick<Config, 'FOREIGN_PARTITION'>
  onApplied: ApplyListener
  /**
   * The partition's history is not the one the state holds (it went backwards): stops serving it
   * and returns the error that ends the consumer session, so that the topic is replayed again.
   */
  replayAgain: (what: string) => Error
}

const isInPlace = (message: Partial<RecordInPlace>): message is RecordInPlace => message.bytes !== undefined

/**
 * Applies the batches of one partition to the store, in offset order: decodes and validates each
 * record, counts and logs the rejected ones, and moves the partition's position. Knows nothing of
 * the consumer that fetched the batch, so one partition can be started or stopped on its own.
 */
export class PartitionApplier {
  readonly partition: number
  readonly #deps: PartitionApplierDeps
  readonly #rejectForeign: boolean

  constructor(deps: PartitionApplierDeps) {
    this.#deps = deps
    this.partition = deps.partition
    this.#rejectForeign = deps.config.FOREIGN_PARTITION === 'reject'
  }

  /** Next offset to read: everything before it is applied. */
  get position(): number {
    return this.#deps.store.position(this.partition)
  }

  /** Applies one fetched batch; throws when the store cannot take it (the position stays). */
  apply(batch: FetchedBatch): void {
    const { store, partitions, rejects } = this.#deps
    const { counts, watermarks } = this.#deps.numbers
    const partition = this.partition
    const highWatermark = Number(batch.highWatermark)
    watermarks.observe(partition, highWatermark)
    const from = store.position(partition)
    // A partition whose end is now behind what we applied was truncated or deleted and recreated:
    // kafkajs quietly moves back to its start, and every record below our position would be skipped.
    if (highWatermark < from) {
      throw this.#deps.replayAgain(
        `partition ${partition} ends at ${batch.highWatermark}, behind the ${from} already applied: the topic was truncated or recreated`,
      )
    }
    const changes: Change[] = []
    const offsets: number[] = []
    let puts = 0
    for (const message of batch.messages) {
      const inPlace = isInPlace(message)
      const offset = inPlace && message.offsetNumber >= 0 ? message.offsetNumber : Number(message.offset)
      // After a rejoin or reconnect a fetch may repeat what was applied; applying it again would
      // briefly serve older values.
      if (offset < from) continue
      let decoded = inPlace ? decodeRecordInPlace(message) : decodeRecord(message.key, message.value)
      // A decoded record has a key. Its partition must be the one murmur2 gives (one hash of the key
      // bytes): elsewhere, the same client lives on two partitions and the replay's order decides.
      if (decoded.kind !== 'reject') {
        const expected = inPlace
          ? murmur2Partition(message.bytes, partitions, message.keyStart, message.keyLength)
          : murmur2Partition(message.key as Buffer, partitions)
        if (expected !== partition) {
          this.#foreign(decoded, expected)
          if (this.#rejectForeign) {
            decoded = {
              kind: 'reject',
              reason: 'foreign_partition',
              detail: `murmur2 puts this key on partition ${expected}; FOREIGN_PARTITION=reject`,
            }
          }
        }
      }
      if (decoded.kind === 'reject') {
        counts.rejected[decoded.reason]++
        rejects.record(batch.topic, partition, offset, decoded.reason, decoded.detail)
        continue
      }
      if (decoded.kind === 'put') puts++
      changes.push(decoded)
      offsets.push(offset)
    }
    this.#applyChanges(changes, offsets, Number(batch.lastOffset()) + 1, puts)
  }

  /**
   * Moves the position to `nextOffset` with nothing to apply: where the replay starts (so that
   * every partition has a position, even one with nothing to replay), or past a fetched batch made
   * only of transaction markers, which kafkajs never hands over.
   */
  skipTo(nextOffset: number, highWatermark?: number): void {
    if (highWatermark !== undefined) this.#deps.numbers.watermarks.observe(this.partition, highWatermark)
    this.#applyChanges([], [], nextOffset, 0)
  }

  /** Counts a record on a foreign partition; the first is logged and kept as the warning's example. */
  #foreign(change: Change, expected: number): void {
    const { numbers, log, config } = this.#deps
    const warning = numbers.counts.countForeign(change, this.partition, expected, config.FOREIGN_PARTITION)
    if (warning) log.warn(warning, { partition: this.partition, expected })
  }

  #applyChanges(
    changes: readonly Change[],
    offsets: readonly number[],
    nextOffset: number,
    puts: number,
  ): void {
    const { store, outcomes } = this.#deps
    const { counts, progress } = this.#deps.numbers
    const partition = this.partition
    const known = store.positions().has(partition)
    if (known && nextOffset <= store.position(partition) && changes.length === 0) return
    // A store that cannot take the batch throws: the consumer stops, and the next one reads the batch
    // again from the unchanged position (the store keeps the cause for /ready and reads meanwhile).
    outcomes.beforeApply(store, partition, changes, offsets)
    store.apply(partition, changes, nextOffset, offsets)
    counts.applied += puts
    counts.tombstones += changes.length - puts
    progress.advance(partition, nextOffset)
    this.#deps.onApplied(partition, changes, nextOffset, offsets)
  }
}
