import type { Producer, Transaction } from 'kafkajs'
import type { Logger } from '../log.ts'
import { Fenced, isFencing, NotOwner, Stopped } from './transaction-errors.ts'

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

/** How far a failed append got: nothing sent, its records sent (`open`: its transaction), or committing. */
export type Reached = { stage: 'unsent' } | { stage: 'sent'; open: Transaction } | { stage: 'committing' }

/**
 * One acquisition of a partition: its transactional producer, initialized once, until a transaction
 * fails, Kafka fences it, or the partition is released. Everything here is about never writing with a
 * producer that should be gone, and never fencing an instance that took the partition:
 * - fenced is final: a new producer with the same transactional.id would fence the instance that
 *   took the partition, a zombie fighting back. Only a new acquisition (the group gave the partition
 *   back) initializes one again;
 * - any other failed transaction ends the lease too (Stopped). Its producer is never used again:
 *   kafkajs rolls sequence numbers back after a failed produce request even when the broker appended
 *   it (measured on a 3-node cluster with a leader killed: records applied twice, one acknowledged at
 *   another record's offset), and after a failed send, commit or abort its transaction state is stuck
 *   (tulios/kafkajs#1355, #1416: every later transaction() throws). And no new producer is made here:
 *   initializing one fences whoever holds the transactional.id, and by then that may be another
 *   instance that took the partition (measured: a commit racing the new owner's initialization
 *   answered UNKNOWN_SERVER_ERROR, not a fencing error, and re-initializing then fenced the new
 *   owner); made lazily by the next append, it would also fence after that append's decision was
 *   taken, from what was read before (a lost update). So the partition goes back through its group,
 *   as Kafka Streams does after such a failure: OwnedPartitions asks the coordinator, then acquires
 *   again (fence, read to the end, then decide);
 * - once released or superseded by a new acquisition, a lease creates no producer any more.
 * A transaction left open holds every read_committed reader of the partition until the next owner's
 * initialization or the broker's transaction timeout (WRITE_TIMEOUT_MS, plus up to the broker's 10 s
 * check: 12 s measured with 5 s).
 */
export class PartitionLease {
  readonly #options: PartitionLeaseOptions
  #producer: Promise<Producer> | undefined
  /** Why appends are refused for good (Fenced, Stopped); undefined while the lease takes them. */
  #final: Fenced | Stopped | undefined
  #ended = false

  constructor(options: PartitionLeaseOptions) {
    this.#options = options
  }

  /** The producer to write with: initialized now if there is none; rejects once final or ended. */
  producer(): Promise<Producer> {
    if (!this.#producer) {
      const pending = this.#initialize()
      this.#producer = pending
      // A failed initialization fails the append waiting on it; the next append tries again.
      pending.catch(() => {
        if (this.#producer === pending) this.#producer = undefined
      })
    }
    return this.#producer
  }

  /** After `producer`'s transaction failed with `error`, having `reached` so far. Returns the error to report. */
  failed(producer: Promise<Producer>, error: unknown, reached: Reached): unknown {
    if (this.#final) return this.#final
    if (this.#producer !== producer) return error
    if (isFencing(error))
      return this.#finish(producer, new Fenced(this.#partition, this.#id, { cause: error }))
    this.#finish(producer, new Stopped(this.#partition, this.#id, { cause: error }), reached)
    return error
  }

  /** Ends the lease: no producer is created any more; the current one is disconnected. */
  async end(): Promise<void> {
    this.#ended = true
    const producer = this.#producer
    this.#producer = undefined
    await disconnect(producer)
  }

  get #partition(): number {
    return this.#options.partition
  }

  get #id(): string {
    return this.#options.transactionalId
  }

  async #initialize(): Promise<Producer> {
    if (this.#final) throw this.#final
    if (this.#ended) throw new NotOwner(this.#options.topic, this.#partition)
    return this.#options.initialize()
  }

  /**
   * Aborts what the failed producer left open (bounded: a coordinator away must not hold it), so that
   * read_committed readers of the partition need not wait for the broker's transaction timeout, then
   * disconnects it.
   */
  async #dispose(failed: Promise<Producer>, reached: Reached | undefined): Promise<void> {
    try {
      if (reached?.stage === 'sent') await withTimeout(reached.open.abort(), this.#options.abortTimeoutMs)
    } catch (error) {
      this.#options.log.warn('aborting a failed transaction failed; the broker aborts it at its timeout', {
        partition: this.#partition,
        transactionalId: this.#id,
        error,
      })
    } finally {
      void disconnect(failed)
    }
  }

  /** Refuses appends for good from now on, for `reason` (the first one found stays). */
  #finish(producer: Promise<Producer>, reason: Fenced | Stopped, reached?: Reached): Fenced | Stopped {
    this.#final ??= reason
    if (this.#producer === producer) this.#producer = undefined
    this.#options.log.warn(`partition ${this.#partition}: this instance stops writing it`, {
      partition: this.#partition,
      transactionalId: this.#id,
      reason: this.#final.message,
    })
    void this.#dispose(producer, reached)
    return this.#final
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
