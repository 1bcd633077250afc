import { Kafka } from 'kafkajs'
import { loadConfig } from '../../src/config.ts'
import { ChangeHub } from '../../src/events/change-hub.ts'
import { createApp } from '../../src/http/app.ts'
import { ApplyStats } from '../../src/kafka/apply-stats.ts'
import { ConditionalWriter } from '../../src/kafka/conditional-writer.ts'
import { HighWatermarks } from '../../src/kafka/high-watermarks.ts'
import { materializerMetrics } from '../../src/kafka/metrics.ts'
import { ReplayProgress } from '../../src/kafka/replay-progress.ts'
import { materializerSummary } from '../../src/kafka/summary.ts'
import { processMetrics } from '../../src/metrics/process.ts'
import { ownershipMetrics } from '../../src/ownership/metrics.ts'
import { OwnershipGroup } from '../../src/ownership/ownership-group.ts'
import { MemoryStore } from '../../src/store/memory-store.ts'
import { PositionWatch } from '../../src/store/position-watch.ts'
import { TombstoneOutcomes } from '../../src/store/tombstone-outcomes.ts'
import { captureLog } from '../helpers.ts'

/** The app with no broker: a store holding two clients, and a replay that is complete or not. */
export const seed = { cliente_id: '1', saldo: 150, timestamp: '2025-10-14T10:30:45' }
export const TOKEN = 'a-token-of-16-chars-or-more'

/** Writes fail as they would with Kafka unreachable: unit tests have no broker, and fake none. */
const noKafka = () => Promise.reject(new Error('no broker in unit tests'))

export function setup({ ready = true, token = undefined as string | undefined, metricsPublic = true } = {}) {
  const store = new MemoryStore()
  store.apply(
    0,
    [
      { kind: 'put', balance: seed },
      { kind: 'put', balance: { ...seed, cliente_id: 'é/ü', saldo: -2.5 } },
    ],
    2,
    [0, 1],
  )
  const progress = new ReplayProgress()
  progress.begin(new Map([[0, ready ? 2 : 10]]), new Map([[0, 2]]))
  const watermarks = new HighWatermarks()
  watermarks.observe(0, ready ? 2 : 10)
  const stats = new ApplyStats()
  const watch = new PositionWatch(store)
  const kafkaStatus = () => ({ connected: true, lastError: undefined, warnings: [] })
  const summary = materializerSummary({ stats, store, watermarks })
  const materializer = materializerMetrics({ summary, progress, store, kafkaStatus })
  const { log } = captureLog()
  const events = new ChangeHub({
    bufferSize: 100,
    bufferBytes: 1024 * 1024,
    clientBufferBytes: 64 * 1024,
    heartbeatMs: 60_000,
    maxClients: 3,
    stallTimeoutMs: 60_000,
  })
  // Never started: the ownership group as it is before its first assignment (no broker is contacted).
  const ownership = new OwnershipGroup({
    kafka: new Kafka({ brokers: ['unused:9092'] }),
    topic: 'contas',
    groupId: 'consulta-saldo.ownership.contas',
    sessionTimeoutMs: 10_000,
    retryMs: 1_000,
    log,
  })
  const app = createApp({
    store,
    progress,
    log,
    watch,
    outcomes: new TombstoneOutcomes(),
    // The real check-then-append section, in front of writes that fail: a condition is checked first.
    writer: new ConditionalWriter({
      writer: { put: noKafka, delete: noKafka },
      partitions: () => store.positions().size,
      watch,
      waitMs: 50,
    }),
    settings: {
      ...loadConfig({}),
      RETRY_AFTER_S: 3,
      MIN_POSITION_WAIT_MS: 50,
      SALDO_API_TOKEN: token,
      METRICS_PUBLIC: metricsPublic,
    },
    kafkaStatus,
    events,
    summary,
    ownership: () => ownership.status(),
    metrics: () => [
      ...materializer(),
      ...ownershipMetrics(ownership)(),
      ...events.metrics(),
      ...processMetrics(),
    ],
  })
  const get = (path: string, headers: Record<string, string> = {}) =>
    app.handle(new Request(`http://localhost${path}`, { headers }))
  const send = (
    method: string,
    path: string,
    body: string | undefined,
    headers: Record<string, string> = {},
  ) => app.handle(new Request(`http://localhost${path}`, { method, body, headers }))
  return { app, store, progress, stats, watermarks, watch, events, get, send }
}
