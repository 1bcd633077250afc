import { advertisedUrl, type Config } from './config.ts'
import { ChangeHub } from './events/change-hub.ts'
import { createApp } from './http/app.ts'
import { listenError } from './http/listen-error.ts'
import { ApplyNumbers } from './kafka/apply-numbers.ts'
import { createKafka } from './kafka/client.ts'
import { ConditionalWriter } from './kafka/conditional-writer.ts'
import { Materializer } from './kafka/materializer.ts'
import { applyMetrics } from './kafka/metrics.ts'
import { OwnedPartitions } from './kafka/owned-partitions.ts'
import { KafkaPartitionTransactions } from './kafka/partition-transactions.ts'
import { ReplicationCheck } from './kafka/replication-check.ts'
import { partitionEnds } from './kafka/topic.ts'
import type { Logger } from './log.ts'
import { processMetrics } from './metrics/process.ts'
import { MovementIndex } from './movements/movement-index.ts'
import { MovementsTail } from './movements/movements-tail.ts'
import { ownershipMetrics } from './ownership/metrics.ts'
import { OwnershipGroup } from './ownership/ownership-group.ts'
import { MemoryStore } from './store/memory-store.ts'
import { PersistentStore } from './store/persistent-store.ts'
import { PositionWatch } from './store/position-watch.ts'
import { TombstoneOutcomes } from './store/tombstone-outcomes.ts'

/**
 * saldo-api's parts, wired once: used by the binary and by the integration tests alike. Throws a
 * StateDirError when STATE_DIR cannot be used (in use by another process, not writable).
 */
export function createService(config: Config, log: Logger) {
  const kafka = createKafka(config, log)
  const persistent = config.STATE_DIR === 'memory' ? undefined : PersistentStore.open(config.STATE_DIR, log)
  const store = persistent ?? new MemoryStore()
  const replication = new ReplicationCheck({
    kafka,
    topic: config.TOPIC,
    asked: config.TOPIC_REPLICATION_FACTOR,
    intervalMs: config.REPLICATION_CHECK_INTERVAL_MS,
    log,
  })
  const numbers = new ApplyNumbers({
    store,
    config,
    warnings: () => [...replication.warnings(), ...(ownership.modeWarning ? [ownership.modeWarning] : [])],
  })
  const watch = new PositionWatch(store)
  const outcomes = new TombstoneOutcomes()
  const movementIndex = new MovementIndex(config.MOVEMENTS_RETENTION_MS)
  const movementWatch = new PositionWatch(movementIndex)
  const movements = new MovementsTail({ kafka, index: movementIndex, watch: movementWatch, log, config })
  const ownership = new OwnershipGroup({
    kafka,
    topic: config.TOPIC,
    groupId: `${config.GROUP}.ownership.${config.TOPIC}`,
    sessionTimeoutMs: config.OWNERSHIP_SESSION_TIMEOUT_MS,
    retryMs: config.KAFKA_RECONNECT_BACKOFF_MS,
    mode: config.MODE,
    standbyReplicas: config.STANDBY_REPLICAS,
    log,
  })
  const materializer = new Materializer({
    kafka,
    store,
    numbers,
    outcomes,
    log,
    config,
    holdings: config.MODE === 'partitioned' ? ownership : undefined,
  })
  const transactions = new KafkaPartitionTransactions({
    kafka,
    config,
    log,
    trouble: () => {
      const { lastError, warnings } = numbers.kafkaStatus()
      return lastError ? [lastError, ...warnings] : warnings
    },
  })
  // Writes are taken only for the partitions the group gives this instance, once it fenced their
  // previous writer; the first conditional write or movement after that reads up to the end first.
  const owned = new OwnedPartitions({
    ownership,
    transactions,
    catchUp: (partition): void => conditional.readFirst(partition),
    confirm: (partition) => ownership.confirms(partition),
    retryMs: config.KAFKA_RECONNECT_BACKOFF_MS,
    log,
  })
  const conditional = new ConditionalWriter({
    owner: owned,
    topic: config.TOPIC,
    partitions: () => store.origin?.partitions ?? 0,
    watches: new Map([
      [config.TOPIC, watch],
      [config.MOVEMENTS_TOPIC, movementWatch],
    ]),
    endOffsets: (topics, partition) => partitionEnds(kafka.admin(), topics, partition),
    waitMs: config.WRITE_WAIT_MS,
  })
  const events = new ChangeHub({
    bufferSize: config.EVENTS_BUFFER_SIZE,
    bufferBytes: config.EVENTS_BUFFER_BYTES,
    clientBufferBytes: config.EVENTS_CLIENT_BUFFER_BYTES,
    heartbeatMs: config.EVENTS_HEARTBEAT_MS,
    maxClients: config.EVENTS_MAX_CLIENTS,
    stallTimeoutMs: config.EVENTS_STALL_TIMEOUT_MS,
  })
  materializer.onApply((partition, changes, _nextOffset, offsets) => {
    watch.applied()
    events.publish(partition, changes, offsets)
  })
  materializer.onDrop(() => watch.applied())
  let replaying = false
  /** Until ready, the store writes the replay's batches in groups (at boot, and for each rebuild). */
  const groupUntilReady = () => {
    if (replaying) return
    persistent?.beginReplay()
    replaying = true
    numbers.progress.onReady(() => {
      replaying = false
      // The replay's last group of batches goes to disk in slices, while reads are served, and
      // before any batch of the tail.
      persistent?.endReplay()
      // A replay leaves hundreds of MB of fetched batches as garbage; collect it once, not on the GC's clock.
      Bun.gc(true)
    })
  }
  groupUntilReady()
  materializer.onRebuild((reason) => {
    watch.applied()
    events.reset(`this instance rebuilds its state from the topic (${reason})`)
    groupUntilReady()
  })
  const numbersSource = applyMetrics(numbers)
  const ownershipSource = ownershipMetrics(ownership)
  const app = createApp({
    store,
    numbers,
    watch,
    outcomes,
    writer: conditional,
    movements: {
      index: movementIndex,
      watch: movementWatch,
      writer: conditional,
    },
    log,
    settings: config,
    events,
    ownership,
    metrics: () => [...numbersSource(), ...ownershipSource(), ...events.metrics(), ...processMetrics()],
  })

  let stopped: Promise<void> | undefined
  return {
    app,
    store,
    numbers,
    events,
    materializer,
    ownership,
    /**
     * Listens at once (reads answer 503 until ready) and starts the replay. Throws a ListenError when
     * HOST:PORT cannot be bound.
     */
    start(): void {
      try {
        app.listen({
          port: config.PORT,
          hostname: config.HOST,
          // Elysia asks for SO_REUSEPORT: a second saldo-api on this port would then start silently and
          // take half of the connections. Without it, binding fails and the binary says so.
          reusePort: false,
          // Bun refuses a larger body (413) before any route sees it, whatever the method.
          maxRequestBodySize: config.MAX_BODY_BYTES,
        })
      } catch (error) {
        throw listenError(error, config.HOST, config.PORT)
      }
      log.info('listening', { url: `http://${config.HOST}:${app.server?.port}`, topic: config.TOPIC })
      materializer.start()
      movements.start()
      replication.start()
      ownership.start(advertisedUrl(config, app.server?.port ?? config.PORT))
    },
    /**
     * Ends the event streams (they would keep the server waiting), stops accepting, lets in-flight
     * requests finish, stops reading Kafka, then closes the store.
     */
    stop(): Promise<void> {
      stopped ??= (async () => {
        events.close()
        // Bun waits for every connection to finish; an /events client that stopped reading with
        // megabytes queued would hold the stop until the deadline, so after half of it connections
        // are closed, and Kafka and the store still get their turn.
        const graceful = app.stop()
        const drained = await Promise.race([
          graceful.then(() => true),
          Bun.sleep(config.SHUTDOWN_TIMEOUT_MS / 2).then(() => false),
        ])
        if (!drained) app.server?.stop(true)
        await graceful
        const results = await Promise.allSettled([
          // Leaving the group moves this instance's partitions to the others at once.
          ownership.stop(),
          materializer.stop(),
          movements.stop(),
          owned.close(),
          replication.stop(),
        ])
        store.close()
        for (const result of results) {
          if (result.status === 'rejected') log.warn('a part did not stop cleanly', { error: result.reason })
        }
      })()
      return stopped
    },
  }
}
export type Service = ReturnType<typeof createService>
