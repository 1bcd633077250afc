import { loadConfig } from '../../src/config.ts'
import { ChangeHub } from '../../src/events/change-hub.ts'
import { type AppDeps, createApp } from '../../src/http/app.ts'
import { ApplyNumbers } from '../../src/kafka/apply-numbers.ts'
import { ConditionalWriter, type ConditionalWriterOptions } from '../../src/kafka/conditional-writer.ts'
import { applyMetrics } from '../../src/kafka/metrics.ts'
import { processMetrics } from '../../src/metrics/process.ts'
import { ownershipMetrics } from '../../src/ownership/metrics.ts'
import { MemoryStore } from '../../src/store/memory-store.ts'
import { PositionWatch } from '../../src/store/position-watch.ts'
import { TombstoneOutcomes } from '../../src/store/tombstone-outcomes.ts'
import { captureLog } from '../helpers.ts'
import { StaticOwnership } from './static-ownership.ts'

/** The app with no broker: a store holding two clients, and a replay that is complete or not. */
export const seed = { cliente_id: '1', saldo: 150, timestamp: '2025-10-14T10:30:45' }
export const TOKEN = 'a-token-of-16-chars-or-more'

/** Writes fail as they would with Kafka unreachable: unit tests have no broker, and fake none. */
const noKafka = () => Promise.reject(new Error('no broker in unit tests'))

/** Where the fixture's app says it answers; by default it owns the store's only partition, 0. */
export const FIXTURE_URL = 'http://localhost'

export interface SetupOptions {
  ready?: boolean
  token?: string
  metricsPublic?: boolean
  ownership?: StaticOwnership
  fetch?: AppDeps['fetch']
  mode?: 'replica' | 'partitioned'
  /** What writes to Kafka, given this app's store and watch (default: fails as Kafka unreachable). */
  writer?: (parts: { store: MemoryStore; watch: PositionWatch }) => ConditionalWriterOptions['writer']
}

export function setup({
  ready = true,
  token,
  metricsPublic = true,
  ownership = new StaticOwnership(FIXTURE_URL, { 0: FIXTURE_URL }),
  fetch,
  mode = 'replica',
  writer = () => ({ put: noKafka, delete: noKafka }),
}: SetupOptions = {}) {
  const store = new MemoryStore()
  store.setOrigin({ topic: 'contas', clusterId: 'test-cluster', partitions: 1 })
  store.apply(
    0,
    [
      { kind: 'put', balance: seed },
      { kind: 'put', balance: { ...seed, cliente_id: 'é/ü', saldo: -2.5 } },
    ],
    2,
    [0, 1],
  )
  const config = loadConfig({})
  const numbers = new ApplyNumbers({ store, config })
  const { progress, watermarks, counts: stats } = numbers
  progress.begin(new Map([[0, ready ? 2 : 10]]), new Map([[0, 2]]))
  watermarks.observe(0, ready ? 2 : 10)
  numbers.link.fetched()
  const watch = new PositionWatch(store)
  const { log } = captureLog()
  const events = new ChangeHub({
    bufferSize: 100,
    bufferBytes: 1024 * 1024,
    clientBufferBytes: 64 * 1024,
    heartbeatMs: 60_000,
    maxClients: 3,
    stallTimeoutMs: 60_000,
  })
  const app = createApp({
    store,
    numbers,
    log,
    watch,
    outcomes: new TombstoneOutcomes(),
    // The real check-then-append section, in front of writes that fail unless the test gives a
    // writer: a condition is checked first.
    writer: new ConditionalWriter({
      writer: writer({ store, watch }),
      partitions: () => store.origin?.partitions ?? 0,
      watch,
      waitMs: 50,
    }),
    settings: {
      ...config,
      RETRY_AFTER_S: 3,
      MIN_POSITION_WAIT_MS: 50,
      FORWARD_TIMEOUT_MS: 200,
      SALDO_API_TOKEN: token,
      METRICS_PUBLIC: metricsPublic,
      MODE: mode,
      READ_FORWARD_TIMEOUT_MS: 100,
    },
    events,
    ownership,
    fetch,
    metrics: () => [
      ...applyMetrics(numbers)(),
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
  return { app, store, progress, stats, watermarks, watch, events, ownership, get, send }
}
