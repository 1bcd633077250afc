import type { Message } from 'kafkajs'
import { balanceAt, balanceMessage } from './producer.ts'

export interface BulkOptions {
  /** Records to send. */
  count: number
  /** Distinct cliente_ids: record i goes to id (i mod keys) + 1. */
  keys: number
  /** At most this many records per second; undefined for as fast as the broker takes them. */
  rate?: number | undefined
  /** Records per send (one produce request per broker). */
  batchSize?: number
  /** Sends awaiting their acknowledgement at once. */
  inFlight?: number
  /** Aborting stops generating; the sends already made are awaited. */
  signal?: AbortSignal
  /** Called with the number of records acknowledged so far, after every send. */
  onProgress?: (sent: number) => void
}

export interface BulkResult {
  sent: number
  ms: number
}

/** Sends per second when a rate is set, so that the rate holds smoothly rather than in bursts. */
const PACED_SENDS_PER_SECOND = 20

/** `size` generated balances from record `first` on, all stamped with the same time. */
function generate(first: number, size: number, keys: number): Message[] {
  const timestamp = new Date().toISOString()
  const messages = new Array<Message>(size)
  for (let i = 0; i < size; i++) {
    const id = String(((first + i) % keys) + 1)
    messages[i] = balanceMessage(balanceAt(id, Math.round(Math.random() * 10_000_000) / 100, timestamp))
  }
  return messages
}

/**
 * Generates and sends `count` balances in batches, keeping several sends in flight so that the next
 * request is ready when the broker acknowledges one. The idempotent producer serialises requests per
 * broker, but batches may be acknowledged out of order, so a repeated key's last value is whichever batch
 * landed last: fine for generated data.
 */
export async function sendBulk(
  send: (messages: Message[]) => Promise<void>,
  options: BulkOptions,
): Promise<BulkResult> {
  const { count, keys, rate, signal, onProgress } = options
  const inFlight = options.inFlight ?? 4
  const batchSize = rate
    ? Math.max(1, Math.min(options.batchSize ?? 10_000, Math.ceil(rate / PACED_SENDS_PER_SECOND)))
    : (options.batchSize ?? 10_000)
  const startedAt = performance.now()
  const pending = new Set<Promise<void>>()
  let sent = 0
  let failure: { error: unknown } | undefined
  for (let first = 0; first < count && !failure && !signal?.aborted; first += batchSize) {
    if (rate) {
      const due = startedAt + (first / rate) * 1000
      if (due > performance.now()) await Bun.sleep(due - performance.now())
    }
    const batch = generate(first, Math.min(batchSize, count - first), keys)
    const request: Promise<void> = send(batch)
      .then(
        () => {
          sent += batch.length
          onProgress?.(sent)
        },
        (error: unknown) => {
          failure ??= { error }
        },
      )
      .finally(() => pending.delete(request))
    pending.add(request)
    if (pending.size >= inFlight) await Promise.race(pending)
  }
  await Promise.all(pending)
  if (failure) throw failure.error
  return { sent, ms: performance.now() - startedAt }
}
