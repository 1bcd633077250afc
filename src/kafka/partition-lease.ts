import type { Producer, Transaction } from 'kafkajs'
import type { Logger } from '../log.ts'
import { Fenced, isFencing, NotOwner } from './transaction-errors.ts'

export interface PartitionLeaseOptions {
  topic: string
  partition: number
  transactionalId: string
  /** A connected producer with this transactional.id, initialized (the broker has bumped its epoch). */
  initialize: () => Promise<Producer>
  /** How long aborting a failed transaction may take before its producer is dropped all the same. */
  abortTimeoutMs: number
  log: Logger
}

/**
 * One acquisition of a partition: its transactional producer, initialized at most once at a time,
 * replaced after a failure, until Kafka fences it or the partition is released. Everything here is
 * about never writing with a producer that should be gone:
 * - fenced is final: a new producer with the same transactional.id would fence the instance that
 *   took the partition, a zombie fighting back. Only a new acquisition (the group gave the partition
 *   back) initializes one again;
 * - a producer whose transaction failed otherwise is never used again: kafkajs rolls sequence numbers
 *   back after a failed produce request even when the broker appended it (see BalanceWriter), and
 *   after a failed send, commit or abort its transaction state is stuck (tulios/kafkajs#1355, #1416:
 *   every later transaction() throws). Its replacement gets the same transactional.id and is
 *   initialized at once: that fences the old producer (whatever it still retries is refused) and
 *   aborts what it left open, which would otherwise hold every read_committed reader of the
 *   partition at its last stable offset until the broker's transaction timeout. It fences whoever
 *   holds the id, so it is only as right as this instance's belief that it still owns the
 *   partition: ownership must release a partition as soon as it may have lost it (OwnershipView
 *   reports `lost` before the rebalance completes);
 * - once released or superseded by a new acquisition, a lease creates no producer any more.
 */
export class PartitionLease {
  readonly #options: PartitionLeaseOptions
  #producer: Promise<Producer> | undefined
  #fenced: Fenced | undefined
  #ended = false

  constructor(options: PartitionLeaseOptions) {
    this.#options = options
  }

  /** The producer to write with: initialized now if there is none; rejects once fenced or ended. */
  producer(): Promise<Producer> {
    if (this.#fenced) return Promise.reject(this.#fenced)
    if (this.#ended) return Promise.reject(new NotOwner(this.#options.topic, this.#options.partition))
    if (!this.#producer) this.#track(this.#options.initialize())
    return this.#producer as Promise<Producer>
  }

  /**
   * After `producer`'s transaction failed with `error` (`open`: the transaction, when it may still be
   * open and abortable: it failed before its commit was sent). Returns the error to report.
   */
  failed(producer: Promise<Producer>, error: unknown, open: Transaction | undefined): unknown {
    if (this.#fenced) return this.#fenced
    if (this.#producer !== producer) return error
    if (isFencing(error)) return this.#fence(producer, error)
    this.#options.log.warn('a transaction failed; its producer is dropped and a new one initialized', {
      partition: this.#options.partition,
      transactionalId: this.#options.transactionalId,
      error,
    })
    this.#track(this.#replace(producer, open))
    return error
  }

  /** Ends the lease: no producer is created any more; the current one is disconnected. */
  async end(): Promise<void> {
    this.#ended = true
    const producer = this.#producer
    this.#producer = undefined
    await disconnect(producer)
  }

  async #replace(failed: Promise<Producer>, open: Transaction | undefined): Promise<Producer> {
    try {
      // "Abort when possible": it ends the transaction without an epoch bump. Bounded: an abort that
      // hangs (coordinator away) must not hold the partition; the replacement's initialization
      // aborts the transaction anyway.
      if (open?.isActive()) await withTimeout(open.abort(), this.#options.abortTimeoutMs)
    } catch (error) {
      if (isFencing(error)) throw this.#fence(failed, error)
    } finally {
      void disconnect(failed)
    }
    if (this.#fenced) throw this.#fenced
    if (this.#ended) throw new NotOwner(this.#options.topic, this.#options.partition)
    return this.#options.initialize()
  }

  #fence(producer: Promise<Producer>, cause: unknown): Fenced {
    this.#fenced ??= new Fenced(this.#options.partition, this.#options.transactionalId, { cause })
    if (this.#producer === producer) this.#producer = undefined
    this.#options.log.warn('fenced: another instance took the partition; this one stops writing it', {
      partition: this.#options.partition,
      transactionalId: this.#options.transactionalId,
    })
    void disconnect(producer)
    return this.#fenced
  }

  /** Keeps `pending` as the producer; forgets it if it fails, so the next append initializes again. */
  #track(pending: Promise<Producer>): void {
    this.#producer = pending
    pending.catch(() => {
      if (this.#producer === pending) this.#producer = undefined
    })
  }
}

/** Disconnects in the background of whoever waits: a producer still retrying stops doing so. */
async function disconnect(producer: Promise<Producer> | undefined): Promise<void> {
  await producer?.then((p) => p.disconnect()).catch(() => {})
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not done within ${ms} ms`)), ms)
  })
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}
