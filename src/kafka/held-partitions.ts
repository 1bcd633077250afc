import type { Kafka } from 'kafkajs'
import type { Logger } from '../log.ts'
import type { BalanceStore } from '../store/store.ts'
import type { ApplyNumbers } from './apply-numbers.ts'
import type { PartitionApplier } from './batch-applier.ts'
import type { ConsumerSession } from './consumer-session.ts'
import { topicOffsets } from './topic.ts'

/** Where the partitions an instance holds come from: the ownership group, after every assignment. */
export interface Holdings {
  onHeld(listener: (held: ReadonlySet<number>) => void): void
}

export interface HeldPartitionsDeps {
  kafka: Kafka
  topic: string
  store: BalanceStore
  numbers: ApplyNumbers
  log: Logger
  /** A new applier for a partition, reading from the store's position of it. */
  applier: (partition: number) => PartitionApplier
  /** The consumer session running now, if any. */
  session: () => Pick<ConsumerSession, 'read' | 'unread'> | undefined
  /** A partition was dropped: its keys are gone from memory and from the snapshot. */
  dropped: (partition: number, keys: number) => void
  /** The pause before trying again when a gained partition's end offsets could not be read. */
  retryMs: number
}

/**
 * MODE=partitioned: keeps the partitions the materializer reads to those this instance holds (owned
 * and standby), as the ownership group's assignments change them. A gained partition is read from
 * its checkpoint in STATE_DIR when the store has one (the boot plan trusted the state, or threw it
 * away), else from the log start, towards its end offset now; a lost one stops being read and its
 * keys are dropped from memory and the snapshot. Until the first assignment nothing is read: the
 * snapshot's partitions are kept, unserved, in case they are this instance's again, and the instance
 * is not ready. After it, the instance is ready once what it holds is caught up, even when it holds
 * nothing (more instances than copies of partitions): it then forwards every read to the owner.
 */
export class HeldPartitions {
  readonly #deps: HeldPartitionsDeps
  #held: ReadonlySet<number> | undefined
  /** The appliers of the current plan, which the consumer session reads. */
  #appliers: Map<number, PartitionApplier> | undefined
  #partitions = 0
  #changing: Promise<void> = Promise.resolve()
  #retry: ReturnType<typeof setTimeout> | undefined
  #stopped = false

  constructor(deps: HeldPartitionsDeps, holdings: Holdings) {
    this.#deps = deps
    deps.numbers.progress.awaitHoldings()
    holdings.onHeld((held) => {
      this.#held = held
      // At once: /ready shows the new owner map now, and a partition just gained is not caught up.
      const appliers = this.#appliers
      deps.numbers.progress.awaitHoldings(appliers !== undefined && this.#gained(held, appliers).length > 0)
      this.#schedule()
    })
  }

  /** No more tries: the materializer stops. */
  stop(): void {
    this.#stopped = true
    clearTimeout(this.#retry)
  }

  /**
   * Follows the holdings once the change under way is done. When that fails (Kafka unreachable) the
   * instance is not ready, as it does not read a partition it was given: it tries again after
   * retryMs, unless a newer assignment came meanwhile (which follows them itself).
   */
  #schedule(): void {
    clearTimeout(this.#retry)
    this.#changing = this.#changing
      .then(() => this.#follow())
      .catch((error: unknown) => {
        if (this.#stopped) return
        const { log, retryMs } = this.#deps
        log.error('could not start reading a partition this instance was given; trying again', {
          error,
          retryInMs: retryMs,
        })
        this.#retry = setTimeout(() => this.#schedule(), retryMs)
      })
  }

  /** Whether the plan's partition is read now (the caller then makes its applier). */
  holds(partition: number): boolean {
    return this.#held?.has(partition) ?? false
  }

  /** A (re)plan's appliers, of the partitions held now: followed from here on. */
  use(appliers: Map<number, PartitionApplier>, partitions: number): void {
    this.#appliers = appliers
    this.#partitions = partitions
    this.#dropLeftovers()
    // The plan's partitions are those held now (the materializer asked `holds`).
    if (this.#held) this.#deps.numbers.progress.holdingsSettled()
  }

  /** The plan is thrown away (the topic's history changed): the next one brings its own appliers. */
  forget(): void {
    this.#appliers = undefined
  }

  async #follow(): Promise<void> {
    const appliers = this.#appliers
    const held = this.#held
    if (!appliers || !held) return
    const { progress } = this.#deps.numbers
    const gained = this.#gained(held, appliers)
    // Not ready between losing one partition and adding another, nor from the moment one is gained.
    progress.awaitHoldings(gained.length > 0)
    for (const partition of [...appliers.keys()]) if (!held.has(partition)) this.#drop(appliers, partition)
    this.#dropLeftovers()
    if (gained.length > 0 && !(await this.#read(appliers, gained))) return
    // A newer assignment is followed next, and settles them itself.
    if (this.#held === held) progress.holdingsSettled()
  }

  /** The partitions of the topic held now that the plan does not read yet. */
  #gained(held: ReadonlySet<number>, appliers: ReadonlyMap<number, PartitionApplier>): number[] {
    return [...held].filter((p) => !appliers.has(p) && p < this.#partitions)
  }

  /** Starts reading `gained` towards their end offsets now; false when replanned meanwhile (the plan's `use` settles). */
  async #read(appliers: Map<number, PartitionApplier>, gained: readonly number[]): Promise<boolean> {
    const { kafka, topic, store, numbers, log } = this.#deps
    const admin = kafka.admin()
    await admin.connect()
    let offsets: Awaited<ReturnType<typeof topicOffsets>>
    try {
      offsets = await topicOffsets(admin, topic)
    } finally {
      await admin.disconnect()
    }
    // Replanned, or given away again, while the offsets were read.
    if (this.#appliers !== appliers) return false
    for (const partition of gained) {
      if (!this.#held?.has(partition) || appliers.has(partition)) continue
      const checkpoint = store.positions().get(partition)
      const start = Math.max(offsets.starts.get(partition) ?? 0, checkpoint ?? 0)
      const end = offsets.ends.get(partition) ?? start
      const applier = this.#deps.applier(partition)
      applier.skipTo(start, end)
      appliers.set(partition, applier)
      numbers.progress.add(partition, end, start)
      this.#deps.session()?.read(partition)
      log.info('reading a partition this instance now holds', {
        partition,
        from: start,
        to: end,
        resumes: checkpoint === undefined ? 'from the log start' : 'from the local checkpoint',
      })
    }
    return true
  }

  #drop(appliers: Map<number, PartitionApplier>, partition: number): void {
    appliers.delete(partition)
    this.#deps.session()?.unread(partition)
    this.#deps.numbers.progress.remove(partition)
    this.#deps.numbers.watermarks.forget(partition)
    this.#dropKeys(partition, 'this instance no longer holds it')
  }

  /** Partitions of the snapshot this instance does not hold: kept only until the first assignment. */
  #dropLeftovers(): void {
    const held = this.#held
    if (!held || !this.#appliers) return
    for (const partition of [...this.#deps.store.positions().keys()]) {
      if (!held.has(partition) && !this.#appliers.has(partition))
        this.#dropKeys(partition, 'the snapshot had it, but this instance does not hold it')
    }
  }

  #dropKeys(partition: number, why: string): void {
    const keys = this.#deps.store.dropPartition(partition)
    this.#deps.log.info('dropped a partition from memory and the snapshot', { partition, keys, why })
    this.#deps.dropped(partition, keys)
  }
}
