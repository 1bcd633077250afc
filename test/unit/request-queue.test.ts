import { afterEach, describe, expect, it } from 'bun:test'
import { waitFor } from '../helpers.ts'

interface PushedRequest {
  entry: {
    correlationId: number
    apiName: string
    resolve: (answer: unknown) => void
    reject: (e: unknown) => void
  }
  expectResponse: boolean
  sendRequest: () => void
}
interface RequestQueue {
  push(request: PushedRequest): void
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void
  maybeThrottle(ms: number): void
  destroy(): void
  readonly throttleCheckTimeoutId: unknown
}
// kafkajs' queue of the requests of one broker connection (patched: scripts/patches/kafkajs@2.2.4.patch).
const RequestQueueClass: new (
  options: object,
) => RequestQueue = require('kafkajs/src/network/requestQueue/index.js')

const quiet = { debug() {}, info() {}, warn() {}, error() {} }
const queues: RequestQueue[] = []
afterEach(() => {
  for (const queue of queues.splice(0)) queue.destroy()
})

function newQueue(maxInFlightRequests: number | null = null): RequestQueue {
  const queue = new RequestQueueClass({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'saldo-test',
    broker: 'localhost:9092',
    logger: quiet,
  })
  queues.push(queue)
  return queue
}

/**
 * Pushes a request whose sending is recorded in `sent` (and its time in `sentAt`); resolves when its
 * response is fulfilled.
 */
function push(
  queue: RequestQueue,
  correlationId: number,
  sent: number[],
  sentAt?: Map<number, number>,
): Promise<unknown> {
  const { promise, resolve, reject } = Promise.withResolvers<unknown>()
  queue.push({
    entry: { correlationId, apiName: 'Fetch', resolve, reject },
    expectResponse: true,
    sendRequest: () => {
      sent.push(correlationId)
      sentAt?.set(correlationId, Date.now())
    },
  })
  return promise
}

const answer = (queue: RequestQueue, correlationId: number) =>
  queue.fulfillRequest({ correlationId, payload: Buffer.alloc(0), size: 0 })

describe("kafkajs' request queue", () => {
  it('arms no timer once nothing is pending (upstream re-armed one of 0 ms forever on every connection)', async () => {
    const queue = newQueue()
    const sent: number[] = []
    const answered = push(queue, 1, sent)
    expect(sent).toEqual([1])
    answer(queue, 1)
    await answered
    expect(queue.throttleCheckTimeoutId).toBeNull()
  })

  it('sends a request queued while the broker throttles once the throttle ends, then goes quiet', async () => {
    const queue = newQueue()
    const sent: number[] = []
    queue.maybeThrottle(30)
    const answered = push(queue, 1, sent)
    expect(sent).toEqual([])
    expect(queue.throttleCheckTimeoutId).not.toBeNull()
    await waitFor(() => sent.length === 1, { timeoutMs: 2_000, what: 'the throttled request sent' })
    answer(queue, 1)
    await answered
    expect(queue.throttleCheckTimeoutId).toBeNull()
  })

  it('sends a request waiting for an in-flight slot when a response frees one', async () => {
    const queue = newQueue(1)
    const sent: number[] = []
    const first = push(queue, 1, sent)
    const second = push(queue, 2, sent)
    expect(sent).toEqual([1])
    answer(queue, 1)
    await first
    expect(sent).toEqual([1, 2])
    answer(queue, 2)
    await second
    // The check armed while the second waited fires and arms no other (unpatched: never null).
    await waitFor(() => queue.throttleCheckTimeoutId === null, { timeoutMs: 2_000, what: 'no check armed' })
  })

  it('holds a request that waits for a slot while a throttle lands until the throttle ends', async () => {
    const queue = newQueue(1)
    const sentAt = new Map<number, number>()
    const sent: number[] = []
    const first = push(queue, 1, sent)
    const second = push(queue, 2, sent, sentAt)
    // A response that carries a throttle time: the queue learns of it before the slot frees.
    queue.maybeThrottle(60)
    const throttleEnds = Date.now() + 60
    answer(queue, 1)
    await first
    expect(sent).toEqual([1])
    await waitFor(() => sent.length === 2, { timeoutMs: 2_000, what: 'the second request sent' })
    expect(sentAt.get(2)).toBeGreaterThanOrEqual(throttleEnds - 1)
    answer(queue, 2)
    await second
    await waitFor(() => queue.throttleCheckTimeoutId === null, { timeoutMs: 2_000, what: 'no check armed' })
  })
})
