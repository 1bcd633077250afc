import { type Static, Type } from '@sinclair/typebox'

/** How the materializer's link to Kafka is doing, as /ready reports it. */
export const KafkaConnection = Type.Object({
  connected: Type.Boolean({ description: 'a fetch succeeded recently' }),
  lastError: Type.Optional(Type.String({ description: 'why Kafka could not be reached, while it cannot' })),
})

export const KafkaStatus = Type.Composite([
  KafkaConnection,
  Type.Object({
    warnings: Type.Array(Type.String(), {
      description:
        'what an operator should fix: a topic not compacted, a consumer group shared with another, replicas missing or out of sync, a partition without leader',
    }),
  }),
])
export type KafkaStatus = Static<typeof KafkaStatus>

/**
 * The consumer's link to Kafka as the consumer loop sees it: when it last fetched, why it could
 * not, and what it found an operator should fix. Written by the loop, read by /ready and /metrics.
 */
export class KafkaLink {
  /** A healthy consumer fetches at least every FETCH_MAX_WAIT_MS; silence for much longer means trouble. */
  readonly #quietMs: number
  #lastFetchAt = 0
  #lastError: string | undefined
  /** The topic is not compacted. */
  topicWarning: string | undefined
  /** The consumer group is shared with another consumer. */
  groupWarning: string | undefined

  constructor(fetchMaxWaitMs: number) {
    this.#quietMs = Math.max(10_000, fetchMaxWaitMs * 10)
  }

  fetched(now = Date.now()): void {
    this.#lastFetchAt = now
    this.#lastError = undefined
  }

  failed(what: string): void {
    this.#lastError = what
  }

  connected(now = Date.now()): boolean {
    return this.#lastFetchAt > 0 && now - this.#lastFetchAt < this.#quietMs
  }

  get lastError(): string | undefined {
    return this.#lastError
  }
}
