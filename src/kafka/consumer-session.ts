import type { Consumer, Kafka } from 'kafkajs'
import type { Config } from '../config.ts'
import type { Logger } from '../log.ts'
import type { PartitionApplier } from './batch-applier.ts'
import type { KafkaLink } from './kafka-status.ts'
import { watchPartitionCount } from './partition-count-watch.ts'

export interface ConsumerSessionDeps {
  kafka: Kafka
  /** A group of this session's own: committed offsets are never used. */
  groupId: string
  config: Pick<
    Config,
    'TOPIC' | 'FETCH_MAX_WAIT_MS' | 'FETCH_MAX_BYTES_PER_PARTITION' | 'TOPIC_CHECK_INTERVAL_MS'
  >
  /** The topic's partition count the state is built from: another count means it was recreated or resized. */
  partitions: number
  /**
   * The partitions this session reads, each with what applies its batches and says where it resumes.
   * With `partial`, the materializer changes it as it gains and loses partitions (`read`, `unread`).
   */
  appliers: ReadonlyMap<number, PartitionApplier>
  /** MODE=partitioned: the other partitions of the topic are paused, and their batches ignored. */
  partial: boolean
  link: KafkaLink
  /** The topic's history changed: stops serving it; returns the error that ends this session. */
  replayAgain: (what: string) => Error
  log: Logger
}

/**
 * One kafkajs consumer, from connect to stop: joins its group, seeks every partition it reads to
 * its applier's position after each (re)join, hands each fetched batch to that partition's applier,
 * and watches the topic's partition count. It never restarts itself: `run` resolves with why it
 * stopped, and its owner decides what comes next.
 */
export class ConsumerSession {
  readonly #deps: ConsumerSessionDeps
  readonly #consumer: Consumer
  #stopping = false

  constructor(deps: ConsumerSessionDeps) {
    this.#deps = deps
    const { config } = deps
    this.#consumer = deps.kafka.consumer({
      groupId: deps.groupId,
      allowAutoTopicCreation: false,
      minBytes: 1,
      maxWaitTimeInMs: config.FETCH_MAX_WAIT_MS,
      maxBytesPerPartition: config.FETCH_MAX_BYTES_PER_PARTITION,
      maxBytes: Math.max(config.FETCH_MAX_BYTES_PER_PARTITION, 64 * 1024 * 1024),
      // read_committed (kafkajs' default, stated because writes depend on it): the broker serves up to
      // the last stable offset and names the aborted transactions, which kafkajs filters out, so a
      // record of an open or aborted transaction is never applied (test/integration/transactions.test.ts).
      readUncommitted: false,
      // The owner of this session restarts it: kafkajs restarting a crashed consumer on its own would
      // race with the fresh one, and two consumers would apply the same batches.
      retry: { restartOnFailure: async () => false },
    })
  }

  /** Runs the consumer until it stops for good; resolves with the reason (undefined after `stop`). */
  async run(): Promise<unknown> {
    const { kafka, config, appliers, link } = this.#deps
    const consumer = this.#consumer
    let end: (reason: unknown) => void = () => {}
    const stopped = new Promise<unknown>((resolve) => {
      end = resolve
      consumer.on(consumer.events.CRASH, ({ payload }) => resolve(payload.error))
      // Our own stop() disconnects without a crash.
      consumer.on(consumer.events.STOP, () => {
        if (this.#stopping) resolve(undefined)
      })
    })
    consumer.on(consumer.events.FETCH, () => link.fetched())
    // A batch made only of transaction markers is never given to eachBatch, but still moves the position.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize > 0) return
      appliers.get(payload.partition)?.skipTo(Number(payload.lastOffset) + 1, Number(payload.highWatermark))
    })
    const admin = kafka.admin()
    const partitions = watchPartitionCount({
      admin,
      topic: config.TOPIC,
      intervalMs: config.TOPIC_CHECK_INTERVAL_MS,
      expected: () => this.#deps.partitions,
      onChange: (count, built) =>
        end(
          this.#deps.replayAgain(
            `the topic has ${count} partitions now, not the ${built} this state was built from: it was recreated or resized`,
          ),
        ),
      log: this.#deps.log,
    })
    // After any (re)join, read on from our own positions, never from committed offsets.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = payload.memberAssignment[config.TOPIC] ?? []
      this.#pauseOthers(assigned)
      this.#seekToPositions()
      if ([...appliers.keys()].every((partition) => assigned.includes(partition)))
        link.groupWarning = undefined
      // Fewer partitions than ours: another member of our group, or a topic that shrank (then rebuilt).
      else
        void partitions.check().then((count) => {
          if (count === this.#deps.partitions) this.#warnSharedGroup(payload.groupId, assigned)
        })
    })
    try {
      await admin.connect()
      await consumer.connect()
      await consumer.subscribe({ topic: config.TOPIC, fromBeginning: true })
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => this.#applierOf(batch.partition).apply(batch),
      })
      // A stop() while connecting came too early to stop this consumer; the finally below does.
      if (this.#stopping) return undefined
      this.#pauseOthers(Array.from({ length: this.#deps.partitions }, (_, p) => p))
      this.#seekToPositions()
      return await stopped
    } finally {
      partitions.stop()
      await Promise.all([consumer.disconnect().catch(() => {}), admin.disconnect().catch(() => {})])
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true
    await this.#consumer.disconnect().catch(() => {})
  }

  /** MODE=partitioned: reads `partition` from its applier's position on (just added to the map). */
  read(partition: number): void {
    const applier = this.#deps.appliers.get(partition)
    if (!applier) return
    this.#seek(partition, applier.position)
    this.#whenRunning(() =>
      this.#consumer.resume([{ topic: this.#deps.config.TOPIC, partitions: [partition] }]),
    )
  }

  /** MODE=partitioned: stops reading `partition` (just removed from the map); a fetch in flight is dropped. */
  unread(partition: number): void {
    this.#whenRunning(() =>
      this.#consumer.pause([{ topic: this.#deps.config.TOPIC, partitions: [partition] }]),
    )
  }

  /** With `partial`, the partitions of the topic that are not in the map are paused. */
  #pauseOthers(assigned: readonly number[]): void {
    if (!this.#deps.partial) return
    const others = assigned.filter((partition) => !this.#deps.appliers.has(partition))
    if (others.length > 0)
      this.#whenRunning(() => this.#consumer.pause([{ topic: this.#deps.config.TOPIC, partitions: others }]))
  }

  #applierOf(partition: number): Pick<PartitionApplier, 'apply'> {
    const applier = this.#deps.appliers.get(partition)
    if (applier) return applier
    // A batch fetched before its partition was paused: another instance holds it now.
    if (this.#deps.partial && partition < this.#deps.partitions) return { apply: () => {} }
    throw this.#deps.replayAgain(
      `partition ${partition} is not one of the ${this.#deps.partitions} this state was built from: the topic was resized`,
    )
  }

  /** Every instance must hold every partition; another member in our group would silently take some. */
  #warnSharedGroup(groupId: string, assigned: readonly number[]): void {
    const { link, log, partitions } = this.#deps
    link.groupWarning =
      `consumer group ${groupId} is shared with another consumer: this instance reads only partitions ` +
      `[${[...assigned].sort((a, b) => a - b).join(', ')}] of ${partitions}; give every instance its own INSTANCE_ID`
    log.error(link.groupWarning)
  }

  #seekToPositions(): void {
    for (const [partition, applier] of this.#deps.appliers) this.#seek(partition, applier.position)
  }

  #seek(partition: number, offset: number): void {
    this.#whenRunning(() =>
      this.#consumer.seek({ topic: this.#deps.config.TOPIC, partition, offset: String(offset) }),
    )
  }

  /** Seek, pause and resume throw before the consumer runs: it then seeks and pauses when it joins. */
  #whenRunning(act: () => void): void {
    try {
      act()
    } catch (error) {
      // The consumer crashed before it ran; the owner makes a new session, which seeks again.
      this.#deps.log.debug('could not seek a consumer that is not running', { error })
    }
  }
}
