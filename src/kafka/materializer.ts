import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs'
import { decodeRecord } from '../balance.ts'
import type { Config } from '../config.ts'
import type { Logger } from '../log.ts'
import { type BalanceStore, type Change, changeKey } from '../store/store.ts'
import type { TombstoneOutcomes } from '../store/tombstone-outcomes.ts'
import type { ApplyStats } from './apply-stats.ts'
import type { HighWatermarks } from './high-watermarks.ts'
import type { KafkaStatus } from './kafka-status.ts'
import { watchPartitionCount } from './partition-count-watch.ts'
import { murmur2Partition } from './partitioning.ts'
import { RejectLog } from './reject-log.ts'
import type { ReplayProgress } from './replay-progress.ts'
import { distrustReason } from './snapshot-trust.ts'
import { ensureTopic, topicOffsets, topicSpec } from './topic.ts'

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
  progress: ReplayProgress
  stats: ApplyStats
  watermarks: HighWatermarks
  /** Told of each batch before it is applied, for DELETEs that wait for their tombstone. */
  outcomes: TombstoneOutcomes
  log: Logger
  config: MaterializerConfig
}

/**
 * Called after each applied batch, in offset order per partition; `offsets[i]` is the offset of
 * `changes[i]`. Called on the apply loop: a listener must return quickly and never wait.
 */
export type ApplyListener = (
  partition: number,
  changes: readonly Change[],
  nextOffset: number,
  offsets: readonly number[],
) => void

/**
 * Replays the topic from the store's positions (or the beginning) to the end offsets seen at boot,
 * then tails it for ever, applying each batch to the store. Every instance reads every partition: it
 * joins a consumer group of its own, and its store's positions, not committed offsets, say where to
 * read. Survives broker outages: kafkajs retries, and this loop recreates the consumer when it gives up.
 */
export class Materializer {
  readonly #deps: MaterializerDeps
  readonly #groupId: string
  readonly #listeners: ApplyListener[] = []
  readonly #rebuildListeners: Array<(reason: string) => void> = []
  #consumer: Consumer | undefined
  #consumers = 0
  #prepared = false
  #stopping = false
  #loop: Promise<void> | undefined
  #wake: (() => void) | undefined
  #lastFetchAt = 0
  #lastError: string | undefined
  #topicWarning: string | undefined
  #groupWarning: string | undefined
  readonly #rejects: RejectLog

  constructor(deps: MaterializerDeps) {
    this.#deps = deps
    this.#rejects = new RejectLog(deps.log)
    // The group must be this process's alone: a random part keeps a restarted process (same host
    // name and pid in a container) out of its predecessor's group. An explicit INSTANCE_ID is taken
    // as the operator's promise that it is unique.
    const instance = deps.config.INSTANCE_ID ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`
    this.#groupId = `${deps.config.GROUP}-${instance}`
  }

  onApply(listener: ApplyListener): void {
    this.#listeners.push(listener)
  }

  /** Called when the state is thrown away to be rebuilt from the topic, with why, before the replay. */
  onRebuild(listener: (reason: string) => void): void {
    this.#rebuildListeners.push(listener)
  }

  /** Starts replaying and tailing in the background; progress shows in ReplayProgress. */
  start(): void {
    this.#loop ??= this.#run()
  }

  async stop(): Promise<void> {
    this.#stopping = true
    this.#wake?.()
    await this.#consumer?.disconnect().catch(() => {})
    await this.#loop
    this.#rejects.flush()
  }

  status(now = Date.now()): KafkaStatus {
    // A healthy consumer fetches at least every FETCH_MAX_WAIT_MS; silence for much longer means trouble.
    const quietMs = Math.max(10_000, this.#deps.config.FETCH_MAX_WAIT_MS * 10)
    return {
      connected: this.#lastFetchAt > 0 && now - this.#lastFetchAt < quietMs,
      lastError: this.#lastError,
      warnings: [this.#topicWarning, this.#groupWarning, this.#foreignWarning()].filter(
        (w): w is string => w !== undefined,
      ),
    }
  }

  #foreignWarning(): string | undefined {
    const { foreignPartition, foreignExample: example } = this.#deps.stats
    if (!example) return undefined
    const policy = this.#deps.config.FOREIGN_PARTITION
    return (
      `records were read on another partition than murmur2(key) puts them on (${foreignPartition} since start; e.g. key ` +
      `${JSON.stringify(example.key)} on partition ${example.partition}, not ${example.expected}): their producer ` +
      'does not partition like the Java client, so one client can live on two partitions and a replay may ' +
      'keep another value than this instance. Fix the producer (kcat or librdkafka: -X topic.partitioner=murmur2_random); ' +
      `FOREIGN_PARTITION=${policy}: such records are ${policy === 'accept' ? 'applied' : 'rejected'}`
    )
  }

  async #run(): Promise<void> {
    const { log, config } = this.#deps
    const progressTimer = setInterval(() => this.#logProgress(), config.PROGRESS_LOG_INTERVAL_MS)
    this.#deps.progress.onReady(() => {
      clearInterval(progressTimer)
      const { progress, store } = this.#deps
      log.info('replay complete; tailing', {
        keys: store.size,
        loadedFromSnapshot: store.loadedFromSnapshot,
        replayedOffsets: progress.replayedOffsets,
        ms: progress.replayMs,
        recordsPerSecond: progress.snapshot().recordsPerSecond,
      })
    })
    while (!this.#stopping) {
      try {
        if (!this.#prepared) await this.#prepare()
        if (this.#stopping) break
        const reason = await this.#consume()
        if (!this.#stopping) this.#fail('consumer stopped', reason)
      } catch (error) {
        if (!this.#stopping) this.#fail('cannot reach Kafka', error)
      }
      if (!this.#stopping) await this.#pause(config.KAFKA_RECONNECT_BACKOFF_MS)
    }
    clearInterval(progressTimer)
  }

  #fail(what: string, error: unknown): void {
    this.#lastError = `${what}: ${(error as Error)?.message ?? String(error)}`
    this.#deps.log.error(`${what}; serving the last known state and retrying`, {
      error,
      retryInMs: this.#deps.config.KAFKA_RECONNECT_BACKOFF_MS,
    })
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.#wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  /**
   * Makes sure the topic exists, throws the store's state away if it belongs to another history,
   * and fixes the replay's goal: the end offsets at this moment.
   */
  async #prepare(): Promise<void> {
    const { kafka, config, log, store, progress, watermarks } = this.#deps
    const admin = kafka.admin()
    await admin.connect()
    try {
      this.#topicWarning = await ensureTopic(admin, topicSpec(config), log)
      const { clusterId } = await admin.describeCluster()
      const { starts, ends } = await topicOffsets(admin, config.TOPIC)
      const reason = distrustReason(
        { origin: store.origin, positions: store.positions() },
        { topic: config.TOPIC, clusterId, starts, ends },
      )
      if (reason) {
        log.warn('the local snapshot cannot be trusted; rebuilding from the beginning of the topic', {
          reason,
          keysDiscarded: store.size,
        })
        store.clear()
        // The warning speaks of the history being served; the counter goes on counting records read.
        this.#deps.stats.foreignExample = undefined
        for (const listener of this.#rebuildListeners) listener(reason)
      }
      store.setOrigin({ topic: config.TOPIC, clusterId, partitions: ends.size })
      const from = new Map<number, number>()
      for (const [partition, start] of starts) from.set(partition, Math.max(start, store.position(partition)))
      watermarks.reset(ends)
      log.info('replaying topic', {
        topic: config.TOPIC,
        partitions: ends.size,
        loadedFromSnapshot: store.loadedFromSnapshot,
      })
      progress.begin(ends, from)
      // Every partition has a position from the start, even one with nothing to replay.
      for (const [partition, start] of from) this.#applyChanges(partition, [], [], start)
      this.#prepared = true
    } finally {
      await admin.disconnect()
    }
  }

  /** Runs one consumer until it stops for good; resolves with the reason. */
  async #consume(): Promise<unknown> {
    const { kafka, config } = this.#deps
    // A fresh group for every consumer: after a crash, joining the old group would wait a whole
    // session timeout for the dead member. Committed offsets are never used, so nothing is lost.
    this.#consumers++
    const consumer = kafka.consumer({
      groupId: `${this.#groupId}-${this.#consumers}`,
      allowAutoTopicCreation: false,
      minBytes: 1,
      maxWaitTimeInMs: config.FETCH_MAX_WAIT_MS,
      maxBytesPerPartition: config.FETCH_MAX_BYTES_PER_PARTITION,
      maxBytes: Math.max(config.FETCH_MAX_BYTES_PER_PARTITION, 64 * 1024 * 1024),
      // read_committed (kafkajs' default, stated because writes depend on it): the broker serves up to
      // the last stable offset and names the aborted transactions, which kafkajs filters out, so a
      // record of an open or aborted transaction is never applied (test/integration/transactions.test.ts).
      readUncommitted: false,
      // This loop owns restarts: kafkajs restarting a crashed consumer on its own would race with
      // the fresh consumer we create, and two consumers would apply the same batches.
      retry: { restartOnFailure: async () => false },
    })
    this.#consumer = consumer
    let end: (reason: unknown) => void = () => {}
    const stopped = new Promise<unknown>((resolve) => {
      end = resolve
      consumer.on(consumer.events.CRASH, ({ payload }) => resolve(payload.error))
      // Our own stop() disconnects without a crash.
      consumer.on(consumer.events.STOP, () => {
        if (this.#stopping) resolve(undefined)
      })
    })
    consumer.on(consumer.events.FETCH, () => {
      this.#lastFetchAt = Date.now()
      this.#lastError = undefined
    })
    // A batch made only of transaction markers is never given to eachBatch, but still moves the position.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize > 0) return
      this.#deps.watermarks.observe(payload.partition, Number(payload.highWatermark))
      this.#applyChanges(payload.partition, [], [], Number(payload.lastOffset) + 1)
    })
    const admin = kafka.admin()
    const partitions = watchPartitionCount({
      admin,
      topic: config.TOPIC,
      intervalMs: config.TOPIC_CHECK_INTERVAL_MS,
      expected: () => this.#deps.progress.partitionCount,
      onChange: (count, built) =>
        end(
          this.#replayAgain(
            `the topic has ${count} partitions now, not the ${built} this state was built from: it was recreated or resized`,
          ),
        ),
      log: this.#deps.log,
    })
    // After any (re)join, read on from our own positions, never from committed offsets.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = payload.memberAssignment[config.TOPIC] ?? []
      this.#seekToPositions(consumer)
      if (assigned.length >= this.#deps.progress.partitionCount) this.#groupWarning = undefined
      // Fewer partitions than ours: another member of our group, or a topic that shrank (then rebuilt).
      else
        void partitions.check().then((count) => {
          if (count === this.#deps.progress.partitionCount) this.#warnSharedGroup(payload.groupId, assigned)
        })
    })
    try {
      await admin.connect()
      await consumer.connect()
      await consumer.subscribe({ topic: config.TOPIC, fromBeginning: true })
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: (payload) => this.#applyBatch(payload),
      })
      // A stop() while connecting came too early to stop this consumer; the finally below does.
      if (this.#stopping) return undefined
      this.#seekToPositions(consumer)
      return await stopped
    } finally {
      partitions.stop()
      this.#consumer = undefined
      await Promise.all([consumer.disconnect().catch(() => {}), admin.disconnect().catch(() => {})])
    }
  }

  /** Every instance must hold every partition; another member in our group would silently take some. */
  #warnSharedGroup(groupId: string, assigned: readonly number[]): void {
    const total = this.#deps.progress.partitionCount
    this.#groupWarning =
      `consumer group ${groupId} is shared with another consumer: this instance reads only partitions ` +
      `[${[...assigned].sort((a, b) => a - b).join(', ')}] of ${total}; give every instance its own INSTANCE_ID`
    this.#deps.log.error(this.#groupWarning)
  }

  #seekToPositions(consumer: Consumer): void {
    try {
      for (const [partition, offset] of this.#deps.store.positions()) {
        consumer.seek({ topic: this.#deps.config.TOPIC, partition, offset: String(offset) })
      }
    } catch (error) {
      // The consumer crashed before it ran; the loop makes a new one, which seeks again.
      this.#deps.log.debug('could not seek a consumer that is not running', { error })
    }
  }

  async #applyBatch({ batch }: EachBatchPayload): Promise<void> {
    const { stats, store, watermarks } = this.#deps
    const partition = batch.partition
    watermarks.observe(partition, Number(batch.highWatermark))
    const from = store.position(partition)
    // A partition whose end is now behind what we applied was truncated or deleted and recreated:
    // kafkajs quietly moves back to its start, and every record below our position would be skipped.
    if (Number(batch.highWatermark) < from) {
      throw this.#replayAgain(
        `partition ${partition} ends at ${batch.highWatermark}, behind the ${from} already applied: the topic was truncated or recreated`,
      )
    }
    const partitions = this.#deps.progress.partitionCount
    const rejectForeign = this.#deps.config.FOREIGN_PARTITION === 'reject'
    const changes: Change[] = []
    const offsets: number[] = []
    for (const message of batch.messages) {
      const offset = Number(message.offset)
      // After a rejoin or reconnect a fetch may repeat what was applied; applying it again would
      // briefly serve older values.
      if (offset < from) continue
      let decoded = decodeRecord(message.key, message.value)
      // A decoded record has a key. Its partition must be the one murmur2 gives (one hash of the key
      // bytes): elsewhere, the same client lives on two partitions and the replay's order decides.
      if (decoded.kind !== 'reject') {
        const expected = murmur2Partition(message.key as Buffer, partitions)
        if (expected !== partition) {
          this.#foreign(decoded, partition, expected)
          if (rejectForeign) {
            decoded = {
              kind: 'reject',
              reason: 'foreign_partition',
              detail: `murmur2 puts this key on partition ${expected}; FOREIGN_PARTITION=reject`,
            }
          }
        }
      }
      if (decoded.kind === 'reject') {
        stats.rejected[decoded.reason]++
        this.#rejects.record(batch.topic, partition, offset, decoded.reason, decoded.detail)
        continue
      }
      changes.push(decoded)
      offsets.push(offset)
    }
    this.#applyChanges(partition, changes, offsets, Number(batch.lastOffset()) + 1)
  }

  /** Counts a record on a foreign partition; the first is logged and kept as the warning's example. */
  #foreign(change: Change, partition: number, expected: number): void {
    const { stats, log } = this.#deps
    stats.foreignPartition++
    if (stats.foreignExample) return
    stats.foreignExample = { key: changeKey(change), partition, expected }
    log.warn(this.#foreignWarning() as string, { partition, expected })
  }

  /**
   * Stops serving this history and has the loop prepare again, which rebuilds from the topic; returns
   * the error that ends the consumer session.
   */
  #replayAgain(what: string): Error {
    this.#prepared = false
    this.#deps.progress.interrupt()
    this.#deps.log.warn(`${what}; replaying it again`)
    return new Error(`${what}; replaying the topic again`)
  }

  #applyChanges(
    partition: number,
    changes: readonly Change[],
    offsets: readonly number[],
    nextOffset: number,
  ): void {
    const { store, progress } = this.#deps
    const known = store.positions().has(partition)
    if (known && nextOffset <= store.position(partition) && changes.length === 0) return
    // A store that cannot take the batch throws: the consumer stops, and the next one reads the batch
    // again from the unchanged position (the store keeps the cause for /ready and reads meanwhile).
    this.#deps.outcomes.beforeApply(store, partition, changes, offsets)
    store.apply(partition, changes, nextOffset, offsets)
    for (const change of changes) {
      if (change.kind === 'put') this.#deps.stats.applied++
      else this.#deps.stats.tombstones++
    }
    progress.advance(partition, nextOffset)
    for (const listener of this.#listeners) listener(partition, changes, nextOffset, offsets)
  }

  #logProgress(): void {
    const { progress, log } = this.#deps
    if (progress.ready || !this.#prepared) return
    const snap = progress.snapshot()
    log.info('replay progress', {
      partitions: snap.partitions.map((p) => `${p.partition}:${p.position}/${p.endOffset}`).join(' '),
      remaining: snap.remaining,
      recordsPerSecond: snap.recordsPerSecond,
      etaSeconds: snap.etaSeconds,
    })
  }
}
