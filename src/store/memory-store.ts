import type { Balance } from '../balance.ts'
import { type BalanceAnswer, BalanceTable, type TableRow } from './balance-table.ts'
import type { BalanceStore, Change, StoreOrigin } from './store.ts'

/** The query path: the latest balance of every client in a compact table, and the position per partition. */
export class MemoryStore implements BalanceStore {
  readonly #rows = new BalanceTable()
  readonly #positions = new Map<number, number>()
  #origin: StoreOrigin | undefined

  get(clienteId: string): Balance | undefined {
    return this.#rows.get(clienteId)
  }

  answer(clienteId: string): BalanceAnswer | undefined {
    return this.#rows.answer(clienteId)
  }

  get size(): number {
    return this.#rows.size
  }

  position(partition: number): number {
    return this.#positions.get(partition) ?? 0
  }

  positions(): ReadonlyMap<number, number> {
    return this.#positions
  }

  etag(clienteId: string): string | undefined {
    return this.#rows.etag(clienteId)
  }

  /** The client's balance with the partition and offset of the record that set it (for the snapshot's rows). */
  row(clienteId: string): TableRow | undefined {
    return this.#rows.row(clienteId)
  }

  /** Which keys were set since the snapshot's last group write (see BalanceTable.trackChanges). */
  get marks(): Pick<BalanceTable, 'trackChanges' | 'marked' | 'markedKeys' | 'clearMarks'> {
    return this.#rows
  }

  apply(partition: number, changes: readonly Change[], nextOffset: number, offsets: readonly number[]): void {
    this.#rows.apply(partition, changes, offsets)
    this.#positions.set(partition, nextOffset)
  }

  /** Room for `keys` more keys of `bytes` of ids and timestamps, at once (a snapshot's load). */
  reserve(keys: number, bytes: number): void {
    this.#rows.reserve(keys, bytes)
  }

  /** One row of a snapshot, as `apply` would put it, from its fields (no Change per row). */
  load(partition: number, clienteId: string, saldo: number, timestamp: string, offset: number): void {
    this.#rows.setFields(clienteId, saldo, timestamp, partition, offset)
  }

  /** Memory takes every batch. */
  get writeError(): string | undefined {
    return undefined
  }

  get origin(): StoreOrigin | undefined {
    return this.#origin
  }

  setOrigin(origin: StoreOrigin): void {
    this.#origin = origin
  }

  get loadedFromSnapshot(): number {
    return 0
  }

  dropPartition(partition: number): number {
    this.#positions.delete(partition)
    return this.#rows.dropPartition(partition)
  }

  clear(): void {
    this.#rows.clear()
    this.#positions.clear()
    this.#origin = undefined
  }

  close(): void {}
}
