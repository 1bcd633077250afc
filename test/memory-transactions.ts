import type { Message } from 'kafkajs'
import { PartitionQueue } from '../src/kafka/partition-queue.ts'
import type { PartitionTransactions, TopicRecord } from '../src/kafka/partition-transactions.ts'
import type { Placement } from '../src/kafka/producer.ts'

/** A committed record, as a reader of its topic gets it. */
export interface Committed {
  topic: string
  partition: number
  offset: number
  message: Message
}

/**
 * PartitionTransactions without a broker, for unit tests: each append commits at once into an
 * in-memory log, one at a time per partition, and offsets advance as in Kafka (every transaction ends
 * with a commit marker, which takes an offset). Committed records reach `deliver` on a later turn of
 * the event loop, as the readers (`read`) would get them: a writer that does not wait for its records to be
 * applied sees the old state. `failNext` makes the next append reject, committing nothing;
 * `loseNextAnswer` makes it commit and reject all the same (its answer lost); `holdReaders()`
 * keeps committed records from the readers until `releaseReaders()`.
 */
export class MemoryTransactions implements PartitionTransactions {
  readonly committed: Committed[] = []
  appends = 0
  failNext: Error | undefined
  loseNextAnswer: Error | undefined
  #held: Committed[][] | undefined
  readonly #ends = new Map<string, number>()
  readonly #lines = new PartitionQueue()
  readonly #readers: Array<(records: Committed[]) => void> = []

  /** Adds a reader: every instance sharing this log reads what any of them commits. */
  read(reader: (records: Committed[]) => void): void {
    this.#readers.push(reader)
  }

  #deliver(records: Committed[]): void {
    for (const reader of this.#readers) reader(records)
  }

  async acquire(): Promise<void> {}
  async release(): Promise<void> {}
  async close(): Promise<void> {}

  append(partition: number, records: TopicRecord[]): Promise<Placement[]> {
    return this.#lines.run(partition, async () => {
      this.appends++
      const failure = this.failNext
      this.failNext = undefined
      if (failure) throw failure
      const batch = records.map(({ topic, message }) => {
        const slot = `${topic}:${partition}`
        const offset = this.#ends.get(slot) ?? 0
        this.#ends.set(slot, offset + 1)
        return { topic, partition, offset, message }
      })
      // The commit marker of each topic the transaction wrote.
      for (const topic of new Set(records.map((r) => r.topic))) {
        const slot = `${topic}:${partition}`
        this.#ends.set(slot, (this.#ends.get(slot) ?? 0) + 1)
      }
      this.committed.push(...batch)
      if (this.#held) this.#held.push(batch)
      else setTimeout(() => this.#deliver(batch), 0)
      const lost = this.loseNextAnswer
      this.loseNextAnswer = undefined
      if (lost) throw lost
      return batch.map(({ offset }) => ({ partition, offset }))
    })
  }

  /** Keeps what commits from now on from the readers, until releaseReaders(). */
  holdReaders(): void {
    this.#held ??= []
  }

  releaseReaders(): void {
    const held = this.#held ?? []
    this.#held = undefined
    for (const batch of held) this.#deliver(batch)
  }

  /** Called when endOffsets is asked, before it answers. */
  onEndOffsets: (() => void) | undefined

  /** What an admin would answer: the log's end on each topic, whether the readers have it or not. */
  async endOffsets(topics: readonly string[], partition: number): Promise<Map<string, number>> {
    this.onEndOffsets?.()
    return new Map(topics.map((topic) => [topic, this.end(topic, partition)]))
  }

  /** The next offset of a topic's partition (past its last commit marker). */
  end(topic: string, partition: number): number {
    return this.#ends.get(`${topic}:${partition}`) ?? 0
  }

  /** Starts a topic's partition at `offset`, as a log that already holds records. */
  startAt(topic: string, partition: number, offset: number): this {
    this.#ends.set(`${topic}:${partition}`, offset)
    return this
  }
}
