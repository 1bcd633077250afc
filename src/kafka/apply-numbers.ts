import type { Config } from '../config.ts'
import type { BalanceStore } from '../store/store.ts'
import { ApplyStats } from './apply-stats.ts'
import { HighWatermarks } from './high-watermarks.ts'
import { KafkaLink, type KafkaStatus } from './kafka-status.ts'
import type { ReadyBody } from './readiness.ts'
import { ReplayProgress } from './replay-progress.ts'
import type { Summary } from './summary.ts'

export interface ApplyNumbersDeps {
  /** The state the numbers are about: its keys, positions and whether it takes batches. */
  store: Pick<BalanceStore, 'size' | 'position' | 'writeError' | 'loadedFromSnapshot'>
  config: Pick<Config, 'FETCH_MAX_WAIT_MS' | 'FOREIGN_PARTITION'>
  /** What else an operator should fix (replicas, leaders), found outside the apply path. */
  warnings?: () => readonly string[]
}

/**
 * The apply path's numbers, in one place. The appliers and the consumer loop write them: records
 * applied and rejected (`counts`), the latest end offset of each partition (`watermarks`), the
 * replay (`progress`) and the link to Kafka (`link`); positions and keys are the store's own.
 * /stats, /ready, /metrics and the dashboard read them through the views below, so that no figure
 * and no rule (ready, lag) is computed in two places.
 */
export class ApplyNumbers {
  readonly counts = new ApplyStats()
  readonly watermarks = new HighWatermarks()
  readonly progress = new ReplayProgress(this.watermarks)
  readonly link: KafkaLink
  readonly #deps: ApplyNumbersDeps

  constructor(deps: ApplyNumbersDeps) {
    this.#deps = deps
    this.link = new KafkaLink(deps.config.FETCH_MAX_WAIT_MS)
  }

  /** Reads are served: every partition replayed, and the store taking batches. */
  get serving(): boolean {
    return this.progress.ready && this.#deps.store.writeError === undefined
  }

  /** The state was thrown away to be rebuilt from the topic. */
  rebuilt(): void {
    this.counts.rebuilds++
    // The warning speaks of the history being served; the counter goes on counting records read.
    this.counts.foreignExample = undefined
  }

  /** The link to Kafka and everything an operator should fix, as /ready reports it. */
  kafkaStatus(now = Date.now()): KafkaStatus {
    const { link } = this
    const found = [
      link.topicWarning,
      link.groupWarning,
      this.counts.foreignWarning(this.#deps.config.FOREIGN_PARTITION),
    ]
    return {
      connected: link.connected(now),
      lastError: link.lastError,
      warnings: [...found.filter((w): w is string => w !== undefined), ...(this.#deps.warnings?.() ?? [])],
    }
  }

  /** What was applied and how far behind each partition is (partitions in order): GET /stats. */
  summary(): Summary {
    const { counts } = this
    const { store } = this.#deps
    const partitions = [...this.watermarks.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partition, endOffset]) => {
        const position = store.position(partition)
        return { partition, position, endOffset, lag: Math.max(0, endOffset - position) }
      })
    return {
      keys: store.size,
      applied: counts.applied,
      tombstones: counts.tombstones,
      rejected: counts.rejectedTotal,
      rejectedByReason: { ...counts.rejected },
      foreignPartition: counts.foreignPartition,
      rebuilds: counts.rebuilds,
      lag: partitions.reduce((sum, p) => sum + p.lag, 0),
      partitions,
    }
  }

  /** The replay, the store and the link to Kafka: GET /ready (200 when `ready`). */
  readiness(now = Date.now()): ReadyBody {
    const { store } = this.#deps
    const kafka = this.kafkaStatus(now)
    const storeError = store.writeError
    return {
      ...this.progress.snapshot(now),
      ready: this.serving,
      keys: store.size,
      loadedFromSnapshot: store.loadedFromSnapshot,
      kafka: { connected: kafka.connected, ...(kafka.lastError ? { lastError: kafka.lastError } : {}) },
      ...(storeError ? { storeError } : {}),
      warnings: kafka.warnings,
    }
  }
}
