import type { Balance, Decoded } from '../balance.ts'
import type { BalanceAnswer } from './balance-table.ts'

/** A change to apply: a new balance for a client, or its deletion (a tombstone). */
export type Change = Exclude<Decoded, { kind: 'reject' }>

/** The client a change is about. */
export const changeKey = (change: Change): string =>
  change.kind === 'put' ? change.balance.cliente_id : change.clienteId

/** Where the state was built from: a snapshot of one topic is worthless for another. */
export interface StoreOrigin {
  topic: string
  /** The Kafka cluster id (`admin.describeCluster()`). */
  clusterId: string
  /** The topic's partition count when the state was started: a change means it was recreated. */
  partitions: number
}

/**
 * The materialized state: the latest balance of every client, and for every partition the
 * position (the next offset to read, as in Kafka's consumer) that the state reflects.
 * The materializer is the only writer; HTTP only reads.
 */
export interface BalanceStore {
  get(clienteId: string): Balance | undefined
  /** What GET /saldo/:id answers: the balance's JSON and its ETag (see `etag`), in one lookup. */
  answer(clienteId: string): BalanceAnswer | undefined
  /**
   * The version of the client's balance as a strong entity tag, `"partition-offset"` (the record that
   * set it), or undefined without one: what conditional writes compare.
   */
  etag(clienteId: string): string | undefined
  readonly size: number
  /** Next offset to read of a partition: 0 when nothing was applied yet. */
  position(partition: number): number
  /** Every partition with something applied, as partition → next offset. */
  positions(): ReadonlyMap<number, number>
  /**
   * Applies one batch of a partition atomically and moves its position to `nextOffset`;
   * `offsets[i]` is the offset of `changes[i]`.
   */
  apply(partition: number, changes: readonly Change[], nextOffset: number, offsets: readonly number[]): void
  /**
   * Why the last batch could not be applied (disk full, folder not writable), until one is: while
   * set, the state falls behind the topic and must not be served as current.
   */
  readonly writeError: string | undefined
  /** Where the state comes from; undefined until the materializer has said so. */
  readonly origin: StoreOrigin | undefined
  setOrigin(origin: StoreOrigin): void
  /** Keys loaded from a local snapshot at boot and still in use; 0 without one or after `clear`. */
  readonly loadedFromSnapshot: number
  /**
   * Forgets one partition: its keys and its position (MODE=partitioned, once another instance holds
   * it). Returns how many keys were dropped.
   */
  dropPartition(partition: number): number
  /** Forgets everything: rows, positions and origin. */
  clear(): void
  close(): void
}
