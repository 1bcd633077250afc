import { ChangeHub } from '../../src/events/change-hub.ts'
import { createApp } from '../../src/http/app.ts'
import { ApplyStats } from '../../src/kafka/apply-stats.ts'
import { HighWatermarks } from '../../src/kafka/high-watermarks.ts'
import { materializerMetrics } from '../../src/kafka/metrics.ts'
import { ReplayProgress } from '../../src/kafka/replay-progress.ts'
import { processMetrics } from '../../src/metrics/process.ts'
import { MemoryStore } from '../../src/store/memory-store.ts'
import { captureLog } from '../helpers.ts'

/** The app with no broker: a store holding two clients, and a replay that is complete or not. */
export const seed = { cliente_id: '1', saldo: 150, timestamp: '2025-10-14T10:30:45' }

export function setup({ ready = true } = {}) {
  const store = new MemoryStore()
  store.apply(
    0,
    [
      { kind: 'put', balance: seed },
      { kind: 'put', balance: { ...seed, cliente_id: 'é/ü', saldo: -2.5 } },
    ],
    2,
  )
  const progress = new ReplayProgress()
  progress.begin(new Map([[0, ready ? 2 : 10]]), new Map([[0, 2]]))
  const watermarks = new HighWatermarks()
  watermarks.observe(0, ready ? 2 : 10)
  const stats = new ApplyStats()
  const kafkaStatus = () => ({ connected: true, lastError: undefined, warning: undefined })
  const materializer = materializerMetrics({ stats, progress, store, watermarks, kafkaStatus })
  const { log } = captureLog()
  const events = new ChangeHub({ bufferSize: 100, clientBufferBytes: 64 * 1024, heartbeatMs: 60_000 })
  const app = createApp({
    store,
    progress,
    log,
    retryAfterSeconds: 3,
    kafkaStatus,
    events,
    metrics: () => [...materializer(), ...events.metrics(), ...processMetrics()],
  })
  const get = (path: string, headers: Record<string, string> = {}) =>
    app.handle(new Request(`http://localhost${path}`, { headers }))
  return { app, store, progress, stats, watermarks, events, get }
}
