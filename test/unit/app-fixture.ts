import { loadConfig } from '../../src/config.ts'
import { ChangeHub } from '../../src/events/change-hub.ts'
import { type AppDeps, createApp } from '../../src/http/app.ts'
import { ApplyNumbers } from '../../src/kafka/apply-numbers.ts'
import { ConditionalWriter } from '../../src/kafka/conditional-writer.ts'
import { applyMetrics } from '../../src/kafka/metrics.ts'
import { OwnedPartitions } from '../../src/kafka/owned-partitions.ts'
import { processMetrics } from '../../src/metrics/process.ts'
import { decodeMovement } from '../../src/movements/movement.ts'
import { MovementIndex } from '../../src/movements/movement-index.ts'
import { ownershipMetrics } from '../../src/ownership/metrics.ts'
import { decodeRecord } from '../../src/record.ts'
import { MemoryStore } from '../../src/store/memory-store.ts'
import { PositionWatch } from '../../src/store/position-watch.ts'
import type { Change } from '../../src/store/store.ts'
import { TombstoneOutcomes } from '../../src/store/tombstone-outcomes.ts'
import { captureLog } from '../helpers.ts'
import { type Committed, MemoryTransactions } from '../memory-transactions.ts'
import { StaticOwnership } from './static-ownership.ts'

/** The app with no broker: a store holding two clients, and a replay that is complete or not. */
export const seed = { cliente_id: '1', saldo: 150, timestamp: '2025-10-14T10:30:45' }
export const TOKEN = 'a-token-of-16-chars-or-more'

/** Appends fail as they would with Kafka unreachable (`kafkaDown`): unit tests have no broker, and fake none. */
const noKafka = () => Promise.reject(new Error('no broker in unit tests'))

/** Where the fixture's app says it answers; by default it owns the store's only partition, 0. */
export const FIXTURE_URL = 'http://localhost'

export interface SetupOptions {
  ready?: boolean
  token?: string
  metricsPublic?: boolean
  ownership?: StaticOwnership
  fetch?: AppDeps['fetch']
  /** Every append fails as with Kafka unreachable. */
  kafkaDown?: boolean
  /** The log writes and movements go to; another fixture's to read what that one writes. */
  transactions?: MemoryTransactions
  /** Told of every append this app's owner makes (which instance wrote, when several share a log). */
  onAppend?: () => void
  /** The floor of movements (MIN_SALDO). */
  minSaldo?: number
  /** A write's budget for its turn in the partition's line, the takeover and the earlier writes (WRITE_WAIT_MS). */
  writeWaitMs?: number
  /** false: no transactional writer, so POST …/movimentos is not served. */
  movements?: boolean
  mode?: 'replica' | 'partitioned'
}

export function setup({
  ready = true,
  token,
  metricsPublic = true,
  ownership = new StaticOwnership(FIXTURE_URL, { 0: FIXTURE_URL }),
  fetch,
  kafkaDown = false,
  onAppend,
  // The fixture's log holds offsets 0 and 1 already.
  transactions = new MemoryTransactions().startAt(loadConfig({}).TOPIC, 0, 2),
  minSaldo = 0,
  writeWaitMs = 50,
  movements = true,
  mode = 'replica',
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
  const index = new MovementIndex(config.MOVEMENTS_RETENTION_MS)
  index.begin(new Map([[0, 0]]), new Map([[0, 0]]))
  const indexWatch = new PositionWatch(index)
  // What the materializer and the movements tail would do with committed records: apply them here.
  transactions.read((records) => {
    for (const record of records) applyCommitted(record)
    watch.applied()
    indexWatch.applied()
  })
  const applyCommitted = ({ topic, partition, offset, message }: Committed) => {
    const key = Buffer.from(String(message.key))
    const value = message.value === null ? null : Buffer.from(String(message.value))
    if (topic === config.MOVEMENTS_TOPIC) {
      const decoded = decodeMovement(key, value)
      if (!decoded.ok) throw new Error(decoded.problem)
      index.apply(partition, [{ movement: decoded.movement, at: Date.now() }], offset + 2)
      return
    }
    const decoded = decodeRecord(key, value)
    if (decoded.kind === 'reject') throw new Error(decoded.detail)
    store.apply(partition, [decoded as Change], offset + 2, [offset])
  }
  const { log } = captureLog()
  // The real owner's side, over the in-memory log: the fixture's ownership decides what it may write.
  const owned = new OwnedPartitions({
    ownership,
    transactions: {
      acquire: () => transactions.acquire(),
      release: () => transactions.release(),
      close: () => transactions.close(),
      append: (partition, records) => {
        onAppend?.()
        return kafkaDown ? noKafka() : transactions.append(partition, records)
      },
    },
    catchUp: (partition): void => conditional.readFirst(partition),
    confirm: async (partition) => ownership.owned().has(partition),
    retryMs: 10,
    log,
  })
  const conditional: ConditionalWriter = new ConditionalWriter({
    owner: owned,
    topic: config.TOPIC,
    partitions: () => store.origin?.partitions ?? 0,
    watches: new Map([
      [config.TOPIC, watch],
      [config.MOVEMENTS_TOPIC, indexWatch],
    ]),
    endOffsets: (topics, partition) => transactions.endOffsets(topics, partition),
    waitMs: writeWaitMs,
  })
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
    // writer: a condition is checked first; movements go through it to the in-memory transactions.
    writer: conditional,
    movements: { index, watch: indexWatch, writer: movements ? conditional : undefined },
    settings: {
      ...config,
      MIN_SALDO: minSaldo,
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
  return {
    app,
    store,
    progress,
    stats,
    watermarks,
    watch,
    events,
    ownership,
    get,
    send,
    index,
    transactions,
    conditional,
  }
}
