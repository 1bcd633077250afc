import type { Config } from './config.ts'
import { createApp } from './http/app.ts'
import { ApplyStats } from './kafka/apply-stats.ts'
import { createKafka } from './kafka/client.ts'
import { Materializer } from './kafka/materializer.ts'
import { ReplayProgress } from './kafka/replay-progress.ts'
import type { Logger } from './log.ts'
import { MemoryStore } from './store/memory-store.ts'
import { PersistentStore } from './store/persistent-store.ts'

/**
 * saldo-api's parts, wired once: used by the binary and by the integration tests alike. Throws a
 * StateDirError when STATE_DIR cannot be used (in use by another process, not writable).
 */
export function createService(config: Config, log: Logger) {
  const store =
    config.STATE_DIR === 'memory' ? new MemoryStore() : PersistentStore.open(config.STATE_DIR, log)
  const progress = new ReplayProgress()
  const stats = new ApplyStats()
  const materializer = new Materializer({
    kafka: createKafka(config, log),
    store,
    progress,
    stats,
    log,
    config,
  })
  const app = createApp({
    store,
    progress,
    log,
    retryAfterSeconds: config.RETRY_AFTER_S,
    kafkaStatus: () => materializer.status(),
  })

  let stopped: Promise<void> | undefined
  return {
    app,
    store,
    progress,
    stats,
    materializer,
    /** Listens at once (reads answer 503 until ready) and starts the replay. */
    start(): void {
      app.listen({ port: config.PORT, hostname: config.HOST })
      log.info('listening', { url: `http://${config.HOST}:${app.server?.port}`, topic: config.TOPIC })
      materializer.start()
    },
    /** Stops accepting, lets in-flight requests finish, stops reading Kafka, then closes the store. */
    stop(): Promise<void> {
      stopped ??= (async () => {
        await app.stop()
        await materializer.stop()
        store.close()
      })()
      return stopped
    },
  }
}
export type Service = ReturnType<typeof createService>
