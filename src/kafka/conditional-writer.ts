import type { Balance } from '../balance.ts'
import type { PositionWatch } from '../store/position-watch.ts'
import { PartitionQueue } from './partition-queue.ts'
import { murmur2Partition } from './partitioning.ts'
import type { Placement } from './producer.ts'

export interface ConditionalWriterOptions {
  writer: {
    put(balance: Balance): Promise<Placement>
    delete(clienteId: string): Promise<Placement>
  }
  /** The topic's partition count as last seen (0: not known yet). */
  partitions: () => number
  watch: PositionWatch
  /** How long a conditional write waits for the previous write of its partition to be applied here. */
  waitMs: number
}

/** A conditional write found its partition's previous write not yet applied here: it was not made. */
export class PartitionBehind extends Error {}

const encoder = new TextEncoder()

/**
 * The check-then-append section of conditional writes, one per partition on this instance. A write
 * enters after every earlier write of its partition through here was appended; a conditional one also
 * waits until this instance has applied them, so its check sees them, then checks and appends. Two
 * conditional writes through this instance with the same If-Match therefore cannot both pass.
 * Unconditional writes only keep their place in line: waiting for their predecessors to be applied
 * would cost every write a round of the materializer.
 */
export class ConditionalWriter {
  readonly #options: ConditionalWriterOptions
  /** Per partition: a write's turn comes once the one before was appended (or failed). */
  readonly #lines = new PartitionQueue()
  /** Per partition, the position just past the last record appended through here. */
  readonly #appended = new Map<number, number>()

  constructor(options: ConditionalWriterOptions) {
    this.#options = options
  }

  /** `check` throws to refuse the write; undefined: an unconditional write. */
  put(balance: Balance, check: (() => void) | undefined): Promise<Placement> {
    return this.#inLine(balance.cliente_id, check, () => this.#options.writer.put(balance))
  }

  delete(clienteId: string, check: (() => void) | undefined): Promise<Placement> {
    return this.#inLine(clienteId, check, () => this.#options.writer.delete(clienteId))
  }

  #inLine(clienteId: string, check: (() => void) | undefined, append: () => Promise<Placement>) {
    const count = this.#options.partitions()
    const partition = count > 0 ? murmur2Partition(encoder.encode(clienteId), count) : -1
    const turn = async () => {
      if (check) {
        await this.#caughtUp(partition)
        check()
      }
      const at = await append()
      this.#appended.set(at.partition, Math.max(this.#appended.get(at.partition) ?? 0, at.offset + 1))
      return at
    }
    return this.#lines.run(partition, turn)
  }

  async #caughtUp(partition: number): Promise<void> {
    const wanted = this.#appended.get(partition)
    if (wanted === undefined) return
    if (await this.#options.watch.waitFor(new Map([[partition, wanted]]), this.#options.waitMs)) return
    throw new PartitionBehind(
      `the previous write of partition ${partition} (up to ${partition}:${wanted}) is not applied here after ${this.#options.waitMs} ms, so the condition cannot be checked; it was not written: retry`,
    )
  }
}
