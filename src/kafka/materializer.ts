import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Kafka } from 'kafkajs'
import type { Config } from '../config.ts'
import type { Logger } from '../log.ts'
import type { BalanceStore } from '../store/store.ts'
import type { TombstoneOutcomes } from '../store/tombstone-outcomes.ts'
import type { ApplyNumbers } from './apply-numbers.ts'
import { type ApplyListener, PartitionApplier } from './batch-applier.ts'
import { type BootPlan, readBootPlan } from './boot-plan.ts'
import { ConsumerSession } from './consumer-session.ts'
import { HeldPartitions, type Holdings } from './held-partitions.ts'
import { RejectLog } from './reject-log.ts'
import { logReplay } from './replay-log.ts'
import { SessionLoop } from './session-loop.ts'

export type MaterializerConfig = Pick<
  Config,
  | 'TOPIC'
  | 'GROUP'
  | 'INSTANCE_ID'
  | 'TOPIC_PARTITIONS'
  | 'TOPIC_REPLICATION_FACTOR'
  | 'FETCH_MAX_WAIT_MS'
  | 'FETCH_MAX_BYTES_PER_PARTITION'
  | 'KAFKA_RECONNECT_BACKOFF_MS'
  | 'TOPIC_CHECK_INTERVAL_MS'
  | 'FOREIGN_PARTITION'
  | 'PROGRESS_LOG_INTERVAL_MS'
>

export interface MaterializerDeps {
  kafka: Kafka
  store: BalanceStore
  /** What this writes as it goes: counters, end offsets, replay progress, the link to Kafka. */
  numbers: ApplyNumbers
  /** Told of each batch before it is applied, for DELETEs that wait for their tombstone. */
  outcomes: TombstoneOutcomes
  log: Logger
  config: MaterializerConfig
  /** MODE=partitioned: read only what the ownership group gives this instance; undefined reads every partition. */
  holdings?: Holdings
}

/**
 * Replays the topic from the store's positions (or the beginning) to the end offsets seen at boot,
 * then tails it for ever, applying each batch to the store. Every instance reads every partition
 * (MODE=partitioned: only those the ownership group gives it, see held-partitions.ts): it
 * joins a consumer group of its own, and its store's positions, not committed offsets, say where to
 * read. Survives broker outages: kafkajs retries, and this loop starts a new consumer session when
 * one gives up. The parts: a boot plan (where to resume), a consumer session (one kafkajs consumer),
 * and an applier per partition (decode, validate, apply).
 */
export class Materializer {
  readonly #deps: MaterializerDeps
  readonly #groupId: string
  readonly #listeners: ApplyListener[] = []
  readonly #rebuildListeners: Array<(reason: string) => void> = []
  readonly #rejects: RejectLog
  /** The appliers of the current plan, per partition; undefined until planned, and when the topic's history changed. */
  #appliers: Map<number, PartitionApplier> | undefined
  /** MODE=partitioned: which partitions are read, as the assignments go. */
  readonly #held: HeldPartitions | undefined
  readonly #dropListeners: Array<(partition: number) => void> = []
  #session: ConsumerSession | undefined
  /** The topic went backwards under this state: the next plan rebuilds, whatever the offsets say then. */
  #historyChanged: string | undefined
  #sessions = 0
  readonly #life = new SessionLoop()

  constructor(deps: MaterializerDeps) {
    this.#deps = deps
    this.#rejects = new RejectLog(deps.log)
    // The group must be this process's alone: a random part keeps a restarted process (same host
    // name and pid in a container) out of its predecessor's group. An explicit INSTANCE_ID is taken
    // as the operator's promise that it is unique.
    const instance = deps.config.INSTANCE_ID ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`
    this.#groupId = `${deps.config.GROUP}-${instance}`
    this.#held =
      deps.holdings &&
      new HeldPartitions(
        {
          ...deps,
          topic: deps.config.TOPIC,
          applier: (partition) => this.#applier(partition, deps.store.origin?.partitions ?? 0),
          session: () => this.#session,
          dropped: (partition) => {
            for (const listener of this.#dropListeners) listener(partition)
          },
          retryMs: deps.config.KAFKA_RECONNECT_BACKOFF_MS,
        },
        deps.holdings,
      )
  }

  /** MODE=partitioned: called when a partition's keys were dropped (another instance holds it now). */
  onDrop(listener: (partition: number) => void): void {
    this.#dropListeners.push(listener)
  }

  onApply(listener: ApplyListener): void {
    this.#listeners.push(listener)
  }

  /** Called when the state is thrown away to be rebuilt from the topic, with why, before the replay. */
  onRebuild(listener: (reason: string) => void): void {
    this.#rebuildListeners.push(listener)
  }

  /** Starts replaying and tailing in the background; progress shows in the numbers' ReplayProgress. */
  start(): void {
    this.#life.start(() => this.#run())
  }

  async stop(): Promise<void> {
    this.#held?.stop()
    await this.#life.stop(() => this.#session?.stop())
    this.#rejects.flush()
  }

  async #run(): Promise<void> {
    const { log, config, numbers, store } = this.#deps
    const stopLog = logReplay({
      progress: numbers.progress,
      store,
      log,
      intervalMs: config.PROGRESS_LOG_INTERVAL_MS,
      replaying: () => this.#appliers !== undefined,
    })
    while (!this.#life.stopping) {
      try {
        if (!this.#appliers)
          this.#appliers = this.#begin(
            await readBootPlan({ ...this.#deps, distrusted: this.#historyChanged }),
          )
        if (this.#life.stopping) break
        const reason = await this.#consume(this.#appliers)
        if (!this.#life.stopping) this.#fail('consumer stopped', reason)
      } catch (error) {
        if (!this.#life.stopping) this.#fail('cannot reach Kafka', error)
      }
      if (!this.#life.stopping) await this.#life.pause(config.KAFKA_RECONNECT_BACKOFF_MS)
    }
    stopLog()
  }

  #fail(what: string, error: unknown): void {
    this.#deps.numbers.link.failed(`${what}: ${(error as Error)?.message ?? String(error)}`)
    this.#deps.log.error(`${what}; serving the last known state and retrying`, {
      error,
      retryInMs: this.#deps.config.KAFKA_RECONNECT_BACKOFF_MS,
    })
  }

  /**
   * Carries the plan out: throws the store's state away if it belongs to another history, and fixes
   * the replay's goal (the end offsets read by the plan). Returns an applier per partition, each at
   * the position it resumes from.
   */
  #begin(plan: BootPlan): Map<number, PartitionApplier> {
    const { config, log, store, numbers } = this.#deps
    numbers.link.topicWarning = plan.topicWarning
    if (plan.rebuild) {
      log.warn('the local snapshot cannot be trusted; rebuilding from the beginning of the topic', {
        reason: plan.rebuild,
        keysDiscarded: store.size,
      })
      store.clear()
      numbers.rebuilt()
      for (const listener of this.#rebuildListeners) listener(plan.rebuild)
    }
    this.#historyChanged = undefined
    store.setOrigin(plan.origin)
    const read = (partition: number) => this.#held?.holds(partition) ?? true
    const ends = new Map([...plan.ends].filter(([partition]) => read(partition)))
    const from = new Map([...plan.from].filter(([partition]) => read(partition)))
    numbers.watermarks.reset(ends)
    log.info('replaying topic', {
      topic: config.TOPIC,
      partitions: plan.ends.size,
      ...(this.#held ? { held: [...from.keys()] } : {}),
      loadedFromSnapshot: store.loadedFromSnapshot,
    })
    numbers.progress.begin(ends, from)
    const appliers = new Map<number, PartitionApplier>()
    for (const [partition, start] of from) {
      const applier = this.#applier(partition, plan.ends.size)
      appliers.set(partition, applier)
      // Every partition has a position from the start, even one with nothing to replay.
      applier.skipTo(start)
    }
    this.#held?.use(appliers, plan.ends.size)
    return appliers
  }

  #applier(partition: number, partitions: number): PartitionApplier {
    return new PartitionApplier({
      ...this.#deps,
      partition,
      partitions,
      rejects: this.#rejects,
      onApplied: (partition, changes, nextOffset, offsets) => {
        for (const listener of this.#listeners) listener(partition, changes, nextOffset, offsets)
      },
      replayAgain: (what) => this.#replayAgain(what),
    })
  }

  /** Runs one consumer session until it stops for good; resolves with the reason. */
  async #consume(appliers: Map<number, PartitionApplier>): Promise<unknown> {
    // A fresh group for every session: after a crash, joining the old group would wait a whole
    // session timeout for the dead member. Committed offsets are never used, so nothing is lost.
    this.#sessions++
    const session = new ConsumerSession({
      ...this.#deps,
      groupId: `${this.#groupId}-${this.#sessions}`,
      partitions: this.#deps.store.origin?.partitions ?? 0,
      appliers,
      partial: this.#held !== undefined,
      link: this.#deps.numbers.link,
      replayAgain: (what) => this.#replayAgain(what),
    })
    this.#session = session
    try {
      return await session.run()
    } finally {
      this.#session = undefined
    }
  }

  /**
   * Stops serving this history and has the loop plan again, which rebuilds from the topic; returns
   * the error that ends the consumer session.
   */
  #replayAgain(what: string): Error {
    this.#appliers = undefined
    this.#historyChanged = what
    this.#held?.forget()
    this.#deps.numbers.progress.interrupt()
    this.#deps.log.warn(`${what}; replaying it again`)
    return new Error(`${what}; replaying the topic again`)
  }
}
