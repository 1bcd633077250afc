import type { Logger } from '../log.ts'

export interface RejectLogOptions {
  /** Records logged one by one per reason and partition; after them, only summaries. */
  samplePerReason: number
  /** How often a summary of what was not logged one by one is written, while there is some. */
  summaryEveryMs: number
}

export const REJECT_LOG_DEFAULTS: RejectLogOptions = { samplePerReason: 5, summaryEveryMs: 10_000 }

/**
 * Logs a sample of rejected records: a topic with a million bad records must not write a million
 * synchronous lines on the apply loop. The first records of each reason on each partition are
 * logged with their offset (enough to find them with kcat); the rest are counted and summarised
 * periodically. The exact counts live in /metrics and /stats, not here.
 */
export class RejectLog {
  readonly #log: Logger
  readonly #options: RejectLogOptions
  /** Per "partition:reason": how many were logged one by one. */
  readonly #logged = new Map<string, number>()
  /** Per "partition:reason": how many were not logged since the last summary. */
  #unlogged = new Map<string, number>()
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(log: Logger, options: RejectLogOptions = REJECT_LOG_DEFAULTS) {
    this.#log = log
    this.#options = options
  }

  record(topic: string, partition: number, offset: number, reason: string, detail: string): void {
    const key = `${partition}:${reason}`
    const logged = this.#logged.get(key) ?? 0
    if (logged < this.#options.samplePerReason) {
      this.#logged.set(key, logged + 1)
      const last = logged + 1 === this.#options.samplePerReason
      this.#log.warn('rejected record; the key keeps its previous value', {
        topic,
        partition,
        offset,
        reason,
        detail,
        ...(last && {
          next: `further ${reason} records on partition ${partition} are counted (/metrics, /stats) and summarised every ${this.#options.summaryEveryMs} ms`,
        }),
      })
      return
    }
    this.#unlogged.set(key, (this.#unlogged.get(key) ?? 0) + 1)
    // Unref'd: a summary still due never keeps the process alive.
    this.#timer ??= setTimeout(() => this.flush(), this.#options.summaryEveryMs)
    this.#timer.unref?.()
  }

  /** Writes the summary of what was not logged one by one, if anything; called by its timer and at stop. */
  flush(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#unlogged.size === 0) return
    const byPartitionAndReason = Object.fromEntries(this.#unlogged)
    this.#unlogged = new Map()
    this.#log.warn('rejected records not logged one by one since the last summary', {
      byPartitionAndReason,
      total: Object.values(byPartitionAndReason).reduce((sum, n) => sum + n, 0),
    })
  }
}
