import { randomUUID } from 'node:crypto'
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs'
import type { Config } from '../config.ts'
import { SessionLoop } from '../kafka/session-loop.ts'
import { ensureMovementsTopic, partitionCount, topicOffsets } from '../kafka/topic.ts'
import type { Logger } from '../log.ts'
import type { PositionWatch } from '../store/position-watch.ts'
import { decodeMovement } from './movement.ts'
import type { Kept, MovementIndex } from './movement-index.ts'

export type MovementsTailConfig = Pick<
  Config,
  | 'TOPIC'
  | 'MOVEMENTS_TOPIC'
  | 'MOVEMENTS_RETENTION_MS'
  | 'TOPIC_REPLICATION_FACTOR'
  | 'GROUP'
  | 'INSTANCE_ID'
  | 'FETCH_MAX_WAIT_MS'
  | 'KAFKA_RECONNECT_BACKOFF_MS'
>

export interface MovementsTailDeps {
  kafka: Kafka
  index: MovementIndex
  /** Told after every applied batch: writers wait on it for their own appends. */
  watch: PositionWatch
  log: Logger
  config: MovementsTailConfig
}

/** Records that are not movements are skipped; this many are logged one by one, the rest only counted. */
const LOGGED_SKIPS = 5

/**
 * Reads MOVEMENTS_TOPIC into the index on every instance: all partitions from the beginning, in a
 * consumer group of its own (committed offsets are never used, as for TOPIC), read_committed (kafkajs'
 * default), so an aborted movement is never seen. It creates the topic when missing, with TOPIC's
 * partition count: TOPIC must exist first (the materializer creates it), so it retries until then.
 */
export class MovementsTail {
  readonly #deps: MovementsTailDeps
  readonly #groupId: string
  #consumer: Consumer | undefined
  #consumers = 0
  readonly #life = new SessionLoop()
  #skipped = 0
  /** What is wrong with the movements topic (another partition count, compacted); undefined: nothing. */
  warning: string | undefined

  constructor(deps: MovementsTailDeps) {
    this.#deps = deps
    this.#groupId = `${deps.config.GROUP}-movements-${deps.config.INSTANCE_ID ?? randomUUID().slice(0, 8)}`
  }

  start(): void {
    this.#life.start(() => this.#run())
  }

  stop(): Promise<void> {
    return this.#life.stop(() => this.#consumer?.disconnect().catch(() => {}))
  }

  async #run(): Promise<void> {
    const { log, config } = this.#deps
    while (!this.#life.stopping) {
      try {
        await this.#prepare()
        if (!this.#life.stopping) await this.#consume()
      } catch (error) {
        if (!this.#life.stopping)
          log.error('cannot read the movements topic; retrying', { topic: config.MOVEMENTS_TOPIC, error })
      }
      if (!this.#life.stopping) await this.#life.pause(config.KAFKA_RECONNECT_BACKOFF_MS)
    }
  }

  /** Makes sure the topic exists and sets the replay's goal: its end offsets now. */
  async #prepare(): Promise<void> {
    const { kafka, config, log, index } = this.#deps
    const admin = kafka.admin()
    await admin.connect()
    try {
      const spec = {
        topic: config.MOVEMENTS_TOPIC,
        partitions: await partitionCount(admin, config.TOPIC),
        replication: config.TOPIC_REPLICATION_FACTOR,
        retentionMs: config.MOVEMENTS_RETENTION_MS,
      }
      this.warning = await ensureMovementsTopic(admin, spec, log)
      const { starts, ends } = await topicOffsets(admin, config.MOVEMENTS_TOPIC)
      index.begin(starts, ends)
      this.#deps.watch.applied()
    } finally {
      await admin.disconnect()
    }
  }

  /** Runs one consumer until it crashes or stop() ends it. */
  async #consume(): Promise<void> {
    const { kafka, config, index } = this.#deps
    this.#consumers++
    const consumer = kafka.consumer({
      groupId: `${this.#groupId}-${this.#consumers}`,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: config.FETCH_MAX_WAIT_MS,
      retry: { restartOnFailure: async () => false },
    })
    this.#consumer = consumer
    const ended = new Promise<unknown>((resolve) => {
      consumer.on(consumer.events.CRASH, ({ payload }) => resolve(payload.error))
      consumer.on(consumer.events.STOP, () => resolve(undefined))
    })
    // After any (re)join, and once running: read on from the index's positions.
    const seek = () => {
      try {
        for (const [partition, offset] of index.positions())
          consumer.seek({ topic: config.MOVEMENTS_TOPIC, partition, offset: String(offset) })
      } catch (error) {
        // Not running (it crashed first): the next consumer seeks again.
        this.#deps.log.debug('could not seek the movements consumer', { error })
      }
    }
    consumer.on(consumer.events.GROUP_JOIN, seek)
    // A batch of transaction markers only (every movement commits one) reaches no eachBatch.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize > 0) return
      this.#applied(payload.partition, [], Number(payload.lastOffset) + 1)
    })
    try {
      await consumer.connect()
      await consumer.subscribe({ topic: config.MOVEMENTS_TOPIC, fromBeginning: true })
      await consumer.run({ autoCommit: false, eachBatch: (payload) => this.#applyBatch(payload) })
      if (this.#life.stopping) return
      seek()
      const error = await ended
      if (error && !this.#life.stopping) throw error
    } finally {
      this.#consumer = undefined
      await consumer.disconnect().catch(() => {})
    }
  }

  async #applyBatch({ batch }: EachBatchPayload): Promise<void> {
    const from = this.#deps.index.position(batch.partition)
    const movements: Kept[] = []
    for (const message of batch.messages) {
      const offset = Number(message.offset)
      // A fetch after a rejoin may repeat what was applied.
      if (offset < from) continue
      const decoded = decodeMovement(message.key, message.value)
      if (decoded.ok) movements.push({ movement: decoded.movement, at: Number(message.timestamp) })
      else this.#skip(batch.partition, offset, decoded.problem)
    }
    this.#applied(batch.partition, movements, Number(batch.lastOffset()) + 1)
  }

  #applied(partition: number, movements: readonly Kept[], nextOffset: number): void {
    this.#deps.index.apply(partition, movements, nextOffset)
    this.#deps.watch.applied()
  }

  #skip(partition: number, offset: number, problem: string): void {
    this.#skipped++
    if (this.#skipped > LOGGED_SKIPS) return
    this.#deps.log.warn('skipped a record of the movements topic that is not a movement', {
      topic: this.#deps.config.MOVEMENTS_TOPIC,
      partition,
      offset,
      problem,
      ...(this.#skipped === LOGGED_SKIPS && { next: 'further ones are skipped without a log line' }),
    })
  }
}
