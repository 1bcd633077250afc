import type { Message } from 'kafkajs'
import type { Balance } from '../balance.ts'
import type { PositionWatch } from '../store/position-watch.ts'
import type { OwnedPartitions, WriteLease } from './owned-partitions.ts'
import { PartitionQueue } from './partition-queue.ts'
import type { TopicRecord } from './partition-transactions.ts'
import { murmur2Partition } from './partitioning.ts'
import { balanceMessage, type Placement, tombstoneMessage } from './producer.ts'

export interface ConditionalWriterOptions {
  /** TOPIC: where balances and tombstones go. */
  topic: string
  /** The topic's partition count as last seen (0: not known yet). */
  partitions: () => number
  /** Per topic this instance reads, how far it applied it: TOPIC's store, MOVEMENTS_TOPIC's index. */
  watches: ReadonlyMap<string, PositionWatch>
  /**
   * The owner's writer (OwnedPartitions): a lease per write, taken at the head of the partition's line
   * once this instance may write it, and one Kafka transaction per append under that lease.
   */
  owner: Pick<OwnedPartitions, 'take' | 'append'>
  /**
   * The end offsets of a partition on these topics now. Asked after a transaction failed, since it may
   * have committed all the same (an answer lost), and after a takeover: the next conditional write or
   * movement of the partition waits until this instance read up to them, so it sees what landed.
   */
  endOffsets?: (topics: readonly string[], partition: number) => Promise<ReadonlyMap<string, number>>
  /** How long a conditional write waits for the previous write of its partition to be applied here. */
  waitMs: number
}

/** A conditional write found its partition's previous write not yet applied here: it was not made. */
export class PartitionBehind extends Error {}

/** What a transaction decided (`result`), and where its records landed (none: it wrote nothing). */
export interface Transacted<T> {
  result: T
  placements: Placement[]
}

const encoder = new TextEncoder()

/**
 * The check-then-append section of conditional writes and movements, one per partition on this
 * instance. A write enters after every earlier write of its partition through here was appended; a
 * conditional one (and every movement) also waits until this instance has applied them, on every
 * topic they went to, so its check sees them, then checks and appends. Two conditional writes through
 * this instance with the same If-Match therefore cannot both pass, and two movements of a client are
 * never computed from the same balance. Unconditional writes only keep their place in line: waiting
 * for their predecessors to be applied would cost every write a round of the materializer. Except
 * while the partition is to be read first (taken over, or its last transaction failed): then every
 * write waits for the catch-up, so a new owner accepts no write before it has applied the partition up
 * to its end, and an unconditional write's answer is never older than what its ETag names.
 */
export class ConditionalWriter {
  readonly #options: ConditionalWriterOptions
  /** Per partition: a write's turn comes once the one before was appended (or failed). */
  readonly #lines = new PartitionQueue()
  /** Per topic, per partition: the position just past the last record appended through here. */
  readonly #appended = new Map<string, Map<number, number>>()
  /** Per partition whose last transaction failed: the topics it may have written all the same. */
  readonly #unsure = new Map<number, readonly string[]>()

  constructor(options: ConditionalWriterOptions) {
    this.#options = options
  }

  /** `check` throws to refuse the write; undefined: an unconditional write. */
  put(balance: Balance, check: (() => void) | undefined): Promise<Placement> {
    return this.#single(balance.cliente_id, check, balanceMessage(balance))
  }

  delete(clienteId: string, check: (() => void) | undefined): Promise<Placement> {
    return this.#single(clienteId, check, tombstoneMessage(clienteId))
  }

  /**
   * A movement of `clienteId`: `decide` runs once this instance applied every earlier append of the
   * partition, and returns the records to append in one transaction (none: nothing to write, e.g. a
   * retry already applied) or throws to refuse.
   */
  transact<T>(
    clienteId: string,
    decide: () => { records: TopicRecord[]; result: T },
  ): Promise<Transacted<T>> {
    return this.#inLine(clienteId, true, async (lease) => {
      const { records, result } = decide()
      if (records.length === 0) return { result, placements: [] }
      return { result, placements: await this.#append(lease, records) }
    })
  }

  /**
   * The next conditional write or movement of `partition` first reads the partition's end offsets (on
   * every topic watched) and waits until this instance has read up to them: for a partition this
   * instance just took over, whose last writes were another's. Needs `endOffsets`.
   */
  readFirst(partition: number): void {
    this.#unsure.set(partition, [...this.#options.watches.keys()])
  }

  async #single(clienteId: string, check: (() => void) | undefined, message: Message): Promise<Placement> {
    return this.#inLine(clienteId, check !== undefined, async (lease) => {
      check?.()
      const [at] = await this.#append(lease, [{ topic: this.#options.topic, message }])
      if (!at) throw new Error(`Kafka acknowledged the write to ${this.#options.topic} without an offset`)
      return at
    })
  }

  /** One transaction; should it fail, it may have committed all the same: the partition's next decision reads first. */
  async #append(lease: WriteLease, records: TopicRecord[]): Promise<Placement[]> {
    const placements = await this.#options.owner.append(lease, records).catch((error: unknown) => {
      // Added to what is already to be read first (a takeover's topics), never in place of it.
      const before = this.#unsure.get(lease.partition) ?? []
      this.#unsure.set(lease.partition, [...new Set([...before, ...records.map((record) => record.topic)])])
      throw error
    })
    records.forEach((record, i) => {
      const at = placements[i]
      if (at) this.#landed(record.topic, at)
    })
    return placements
  }

  #inLine<T>(clienteId: string, conditional: boolean, body: (lease: WriteLease) => Promise<T>): Promise<T> {
    const count = this.#options.partitions()
    if (count === 0)
      return Promise.reject(
        new PartitionBehind(
          "the topic's partition count is not known yet, so nothing was written: retry in a moment",
        ),
      )
    const partition = murmur2Partition(encoder.encode(clienteId), count)
    // Waiting in line, for the takeover and for the earlier writes to be applied share one budget
    // (waitMs): a write's deadline does not grow with the writes ahead of it.
    const expires = Date.now() + this.#options.waitMs
    return this.#lines.run(partition, async () => {
      const remaining = expires - Date.now()
      if (remaining <= 0) {
        throw new PartitionBehind(
          `the earlier writes of partition ${partition} through this instance took all of WRITE_WAIT_MS=${this.#options.waitMs} ms: it was not written; retry`,
        )
      }
      // First the right to write: a partition being taken over is fenced and marked to read first.
      const lease = await this.#options.owner.take(partition, remaining)
      if (conditional || this.#unsure.has(partition)) {
        await this.#settleUnsure(partition)
        await this.#caughtUp(partition, Math.max(1, expires - Date.now()))
      }
      return body(lease)
    })
  }

  /** After a failed transaction of the partition: its end offsets now become what to read first. */
  async #settleUnsure(partition: number): Promise<void> {
    const topics = this.#unsure.get(partition)
    const endOffsets = this.#options.endOffsets
    if (!topics || !endOffsets) return
    const ends = await endOffsets(topics, partition).catch((error: unknown) => {
      throw new PartitionBehind(
        `the previous movement of partition ${partition} failed and may have been written; its end offsets cannot be read (${(error as Error).message}), so nothing was decided: retry`,
      )
    })
    for (const [topic, end] of ends) if (end > 0) this.#landed(topic, { partition, offset: end - 1 })
    // Only what was read: a takeover (or a failed append) while the offsets were asked marked it
    // again, and those ends were read before it; the next decision reads them again.
    if (this.#unsure.get(partition) === topics) this.#unsure.delete(partition)
  }

  #landed(topic: string, at: Placement): Placement {
    let appended = this.#appended.get(topic)
    if (!appended) {
      appended = new Map()
      this.#appended.set(topic, appended)
    }
    appended.set(at.partition, Math.max(appended.get(at.partition) ?? 0, at.offset + 1))
    return at
  }

  async #caughtUp(partition: number, waitMs: number): Promise<void> {
    const { watches } = this.#options
    const waits = [...this.#appended].map(async ([topic, appended]) => {
      const wanted = appended.get(partition)
      const watch = watches.get(topic)
      if (wanted === undefined || !watch) return
      if (await watch.waitFor(new Map([[partition, wanted]]), waitMs)) return
      throw new PartitionBehind(
        `the previous write of partition ${partition} (up to ${topic} ${partition}:${wanted}) is not applied here in time (WRITE_WAIT_MS=${this.#options.waitMs} ms), so the condition cannot be checked; it was not written: retry`,
      )
    })
    await Promise.all(waits)
  }
}
