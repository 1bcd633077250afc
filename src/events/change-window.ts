import type { Balance } from '../balance.ts'
import { type Change, changeKey } from '../store/store.ts'

/**
 * What one kept change costs, roughly: its slots in the arrays below plus two string headers; the
 * characters are counted apart (two bytes each, the most a JS string takes per UTF-16 unit).
 */
const ENTRY_OVERHEAD_BYTES = 64

/** A kept change, as the window hands it back: enough to render its event again. */
export type WindowVisitor = (
  seq: number,
  partition: number,
  offset: number,
  clienteId: string,
  balance: Balance | undefined,
) => void

/**
 * The most recent changes, numbered 1, 2, 3… in the order they were applied, for clients that resume
 * with Last-Event-ID. A ring bounded by count and by bytes: pushing past either bound releases the
 * oldest entries at once. An entry keeps only the change's strings and numbers in parallel arrays, not
 * the decoded record or its batch, so a replay of millions of changes leaves no more than the window.
 */
export class ChangeWindow {
  readonly #capacity: number
  readonly #maxBytes: number
  readonly #ids: Array<string | undefined>
  /** undefined for a delete. */
  readonly #timestamps: Array<string | undefined>
  readonly #saldos: Float64Array
  readonly #partitions: Int32Array
  readonly #offsets: Float64Array
  /** Ring index of the oldest entry. */
  #start = 0
  #count = 0
  #bytes = 0
  #nextSeq = 1

  constructor(capacity: number, maxBytes: number) {
    this.#capacity = capacity
    this.#maxBytes = maxBytes
    this.#ids = new Array(capacity)
    this.#timestamps = new Array(capacity)
    this.#saldos = new Float64Array(capacity)
    this.#partitions = new Int32Array(capacity)
    this.#offsets = new Float64Array(capacity)
  }

  /** The number the next change gets. */
  get nextSeq(): number {
    return this.#nextSeq
  }

  /** The number of the oldest change kept; `nextSeq` when none is. */
  get oldestSeq(): number {
    return this.#nextSeq - this.#count
  }

  get size(): number {
    return this.#count
  }

  get bytes(): number {
    return this.#bytes
  }

  /** The most changes kept. */
  get capacity(): number {
    return this.#capacity
  }

  /**
   * Numbers the next `count` changes without keeping them, and forgets every change kept: what a
   * batch longer than the window does to it, without the cost of pushing what would fall out.
   */
  advance(count: number): void {
    if (count <= 0) return
    while (this.#count > 0) this.#dropOldest()
    this.#start = 0
    this.#nextSeq += count
  }

  /** Keeps `change`, applied at `offset` of `partition`, as change number `nextSeq`. */
  push(partition: number, offset: number, change: Change): void {
    if (this.#count === this.#capacity) this.#dropOldest()
    const at = (this.#start + this.#count) % this.#capacity
    const clienteId = changeKey(change)
    const timestamp = change.kind === 'put' ? change.balance.timestamp : undefined
    this.#ids[at] = clienteId
    this.#timestamps[at] = timestamp
    this.#saldos[at] = change.kind === 'put' ? change.balance.saldo : 0
    this.#partitions[at] = partition
    this.#offsets[at] = offset
    this.#bytes += entryBytes(clienteId, timestamp)
    this.#count++
    this.#nextSeq++
    while (this.#bytes > this.#maxBytes && this.#count > 0) this.#dropOldest()
  }

  /** Visits every kept change numbered after `seq`, oldest first. */
  forEachAfter(seq: number, visit: WindowVisitor): void {
    const first = Math.max(seq + 1, this.oldestSeq)
    for (let s = first; s < this.#nextSeq; s++) {
      const at = (this.#start + (s - this.oldestSeq)) % this.#capacity
      const clienteId = this.#ids[at] as string
      const timestamp = this.#timestamps[at]
      const balance =
        timestamp === undefined
          ? undefined
          : { cliente_id: clienteId, saldo: this.#saldos[at] as number, timestamp }
      visit(s, this.#partitions[at] as number, this.#offsets[at] as number, clienteId, balance)
    }
  }

  #dropOldest(): void {
    const at = this.#start
    this.#bytes -= entryBytes(this.#ids[at] as string, this.#timestamps[at])
    this.#ids[at] = undefined
    this.#timestamps[at] = undefined
    this.#start = (at + 1) % this.#capacity
    this.#count--
  }
}

function entryBytes(clienteId: string, timestamp: string | undefined): number {
  return ENTRY_OVERHEAD_BYTES + 2 * (clienteId.length + (timestamp?.length ?? 0))
}
