import type { Logger } from '../log.ts'
import type { OwnershipView } from '../ownership/models.ts'
import type { PartitionTransactions, TopicRecord } from './partition-transactions.ts'
import type { Placement } from './producer.ts'
import { NotOwner } from './transaction-errors.ts'

/** The right to write a partition, as long as its acquisition is the current one. */
export interface WriteLease {
  partition: number
  /** Which acquisition of the partition gave it: an append with an older one is refused. */
  acquisition: number
}

/** This instance does not own the partition now, or has not finished taking it over: nothing was written. */
export class PartitionMoving extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PartitionMoving'
  }
}

export interface OwnedPartitionsDeps {
  ownership: Pick<OwnershipView, 'owned' | 'onChange'>
  transactions: PartitionTransactions
  /** Resolves once this instance has read the partition up to its end offsets (on every topic it writes). */
  catchUp: (partition: number) => void | Promise<void>
  /**
   * Whether the group's coordinator still gives this instance `partition`: asked before taking a
   * partition over again on its own (after a failure), since a new producer for its transactional.id
   * would fence whoever owns it now, were this instance a zombie that has not noticed yet.
   */
  confirm: (partition: number) => Promise<boolean>
  /** How long to wait before trying again a takeover that failed (Kafka unreachable, say). */
  retryMs: number
  log: Logger
}

interface Acquisition {
  id: number
  /**
   * Resolves once the partition's older writers are fenced and this instance has read what they
   * wrote; never rejects: a failed attempt (a coordinator being elected, say) is tried again.
   */
  ready: Promise<void>
  /** Why the last attempt failed, while it is being tried again. */
  lastError?: unknown
}

/** The first pause before trying a failed takeover again; it doubles up to `retryMs`. */
const FIRST_RETRY_MS = 50

/**
 * The owner's side of writes. When the ownership group gives this instance a partition, it acquires
 * the partition's transactional writer (which fences any older writer: a zombie owner's appends are
 * refused by the broker from then on) and then reads the partition up to its end offsets, so that
 * whatever the previous owner wrote is applied here before anything is decided from this instance's
 * state. Only then are writes taken. A partition lost is released at once.
 *
 * A write holds a lease for the whole of its check-then-append: should the partition be lost and
 * given back while it runs, its decision was made before the new takeover read what the other owner
 * wrote, so its append is refused rather than written from a stale balance.
 */
export class OwnedPartitions {
  readonly #deps: OwnedPartitionsDeps
  readonly #acquisitions = new Map<number, Acquisition>()
  #nextId = 1
  #closed = false

  constructor(deps: OwnedPartitionsDeps) {
    this.#deps = deps
    for (const partition of deps.ownership.owned()) this.#acquire(partition)
    deps.ownership.onChange(({ gained, lost }) => {
      for (const partition of lost) this.#release(partition)
      for (const partition of gained) this.#acquire(partition)
    })
  }

  /**
   * Waits (up to `waitMs`: what is left of the write's WRITE_WAIT_MS) until this instance may write
   * `partition`; PartitionMoving otherwise.
   */
  async take(partition: number, waitMs: number): Promise<WriteLease> {
    const acquisition = this.#acquisitions.get(partition)
    if (!acquisition) throw this.#notOwned(partition)
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), waitMs)
    })
    const outcome = await Promise.race([acquisition.ready.then(() => 'ready' as const), late])
    clearTimeout(timer)
    if (outcome === 'late') {
      const why = acquisition.lastError
        ? `it could not yet (${(acquisition.lastError as Error).message}) and keeps trying`
        : 'it is fencing its previous writer and reading what it wrote'
      throw new PartitionMoving(
        `this instance is still taking over partition ${partition} after ${waitMs} ms (${why}): nothing was written; retry in a moment`,
      )
    }
    if (this.#acquisitions.get(partition) !== acquisition) throw this.#notOwned(partition)
    return { partition, acquisition: acquisition.id }
  }

  /** Appends in one transaction, if `lease` is still the partition's current acquisition. */
  async append(lease: WriteLease, records: TopicRecord[]): Promise<Placement[]> {
    const { partition } = lease
    if (this.#acquisitions.get(partition)?.id !== lease.acquisition) throw this.#notOwned(partition)
    try {
      return await this.#deps.transactions.append(partition, records)
    } catch (error) {
      // A failed transaction ends the lease (partition-lease.ts): another instance may have taken the
      // partition meanwhile (Fenced says it did, or that this one's view of the group is stale). The
      // group's coordinator decides: taken over again (fence, read back) only if it says the
      // partition is ours. Only the acquisition the append ran under: one that fails after a newer
      // takeover was fenced by that takeover, and taking the partition again would fence the newer
      // one's writes.
      const failed = this.#acquisitions.get(partition)
      if (!(error instanceof NotOwner) && failed?.id === lease.acquisition) this.#again(partition, failed)
      if (error instanceof NotOwner) throw this.#notOwned(partition)
      throw error
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    const partitions = [...this.#acquisitions.keys()]
    this.#acquisitions.clear()
    await this.#deps.transactions.close()
    this.#deps.log.info('owned partitions closed', { partitions })
  }

  #acquire(partition: number): void {
    if (this.#closed) return
    const acquisition: Acquisition = { id: this.#nextId++, ready: Promise.resolve() }
    const current = () => !this.#closed && this.#acquisitions.get(partition) === acquisition
    acquisition.ready = (async () => {
      for (let pause = FIRST_RETRY_MS; ; pause = Math.min(pause * 2, this.#deps.retryMs)) {
        try {
          await this.#deps.transactions.acquire(partition)
          await this.#deps.catchUp(partition)
          this.#deps.log.info('partition taken over: writes accepted', { partition })
          return
        } catch (error) {
          acquisition.lastError = error
          if (!current()) return
          this.#deps.log.warn('taking over a partition failed; trying again', {
            partition,
            retryMs: pause,
            error,
          })
          await Bun.sleep(pause)
          // Given up meanwhile (lost, closed): its writes are refused by the lease check anyway.
          if (!current()) return
        }
      }
    })()
    this.#acquisitions.set(partition, acquisition)
  }

  /** Takes `partition` over again after `failed` went wrong, if the group confirms it is still ours. */
  #again(partition: number, failed: Acquisition | undefined): void {
    const current = () => failed !== undefined && this.#acquisitions.get(partition) === failed
    if (!current()) return
    this.#deps.confirm(partition).then(
      (ours) => {
        if (!current()) return
        if (ours) this.#acquire(partition)
        else this.#release(partition)
      },
      (error: unknown) => {
        this.#deps.log.warn('could not ask the group whether a partition is still ours; asking again', {
          partition,
          retryMs: this.#deps.retryMs,
          error,
        })
        setTimeout(() => this.#again(partition, failed), this.#deps.retryMs)
      },
    )
  }

  #release(partition: number): void {
    if (!this.#acquisitions.delete(partition)) return
    this.#deps.transactions.release(partition).catch((error: unknown) => {
      this.#deps.log.warn('releasing a partition failed', { partition, error })
    })
  }

  #notOwned(partition: number): PartitionMoving {
    const owned = this.#deps.ownership.owned().has(partition)
    return new PartitionMoving(
      owned
        ? `partition ${partition} is being taken over by this instance: nothing was written; retry in a moment`
        : `this instance no longer owns partition ${partition} (ownership is moving): nothing was written; retry in a moment`,
    )
  }
}
