import type { Balance, Decoded } from '../balance.ts'

/** A change to apply: a new balance for a client, or its deletion (a tombstone). */
export type Change = Exclude<Decoded, { kind: 'reject' }>

/**
 * The materialized state: the latest balance of every client, and for every partition the
 * position (the next offset to read, as in Kafka's consumer) that the state reflects.
 * The materializer is the only writer; HTTP only reads.
 */
export interface BalanceStore {
  get(clienteId: string): Balance | undefined
  readonly size: number
  /** Next offset to read of a partition: 0 when nothing was applied yet. */
  position(partition: number): number
  /** Every partition with something applied, as partition → next offset. */
  positions(): ReadonlyMap<number, number>
  /** Applies one batch of a partition atomically and moves its position to `nextOffset`. */
  apply(partition: number, changes: readonly Change[], nextOffset: number): void
  /** Forgets everything: rows and positions. */
  clear(): void
  close(): void
}
