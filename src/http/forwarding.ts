import { murmur2Partition } from '../kafka/partitioning.ts'
import { Counter } from '../metrics/instruments.ts'
import type { OwnershipSource, PartitionOwner } from '../ownership/models.ts'
import { parsePosition } from '../store/position.ts'
import type { PositionWatch } from '../store/position-watch.ts'
import { ApiError } from './errors.ts'
import { MIN_POSITION_HEADER, POSITION_HEADER } from './state-access.ts'

/** Names the instance a write was forwarded by; a write that carries it is never forwarded again. */
export const FORWARDED_BY_HEADER = 'x-saldo-forwarded-by'

/** What the owner needs of the caller's request besides method, path, query and body. */
const PASSED_ON = [
  'authorization',
  'content-type',
  'if-match',
  'if-none-match',
  'idempotency-key',
  MIN_POSITION_HEADER,
]

/** How a write that this instance does not own ended: the label values of the counter. */
export const FORWARD_OUTCOMES = ['forwarded', 'owner_unknown', 'owner_unreachable', 'hop_limit'] as const
type ForwardOutcome = (typeof FORWARD_OUTCOMES)[number]

export interface ForwardingDeps {
  ownership: Pick<OwnershipSource, 'url' | 'ownerOf' | 'onChange'>
  /** The topic's partition count (0 while unknown). */
  partitions: () => number
  /** How long a write may take to find its owner and get its answer. */
  timeoutMs: number
  retryAfterSeconds: number
  /** A write answered by its owner is answered here once applied here too, waiting up to `writeWaitMs`. */
  watch: Pick<PositionWatch, 'waitFor'>
  /** Whether this instance reads `partition` (every one in replica mode, its own in partitioned mode). */
  reads: (partition: number) => boolean
  writeWaitMs: number
  /** Injected by unit tests (two apps, no network); the global fetch otherwise. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>
}

const encoder = new TextEncoder()

/**
 * The owner's answer to a forwarded write, thrown from the route's hook so that the app's onError
 * sends it as it is: the route itself stays typed by its own schemas.
 */
export class OwnerAnswer extends Error {
  constructor(readonly response: Response) {
    super(`answered by the owner with ${response.status}`)
    this.name = 'OwnerAnswer'
  }
}

/**
 * Sends a write to the instance that owns its key's partition, so that a client never needs to know
 * who owns what. One hop at most: an instance that receives a forwarded write for a partition it does
 * not own (ownership moved on the way) refuses it rather than sending it on, so two instances whose
 * views of the map differ for a moment cannot bounce a write between them.
 */
export function writeForwarding({
  ownership,
  partitions,
  timeoutMs,
  retryAfterSeconds,
  watch,
  reads,
  writeWaitMs,
  fetch: send = fetch,
}: ForwardingDeps) {
  const retryAfter = { 'retry-after': String(retryAfterSeconds) }
  const counter = new Counter(
    'saldo_forwarded_requests_total',
    'Writes for a partition this instance does not own, by outcome: forwarded to the owner (whatever it answered), no owner known in time, owner unreachable, or refused at the hop limit.',
    ['outcome'],
  )
  // Every outcome from the start, at 0: a rate over a series that appears late misses its first value.
  for (const outcome of FORWARD_OUTCOMES) counter.bind({ outcome })
  const counted = (outcome: ForwardOutcome) => counter.inc({ outcome })

  // One listener for every waiting write: the view has no way to remove one.
  const waiting = new Set<() => void>()
  ownership.onChange(() => {
    for (const wake of [...waiting]) wake()
  })

  /** The partition's owner, waiting while a rebalance is in progress; undefined past `deadline`. */
  const ownerBy = (partition: number, deadline: number): Promise<PartitionOwner | undefined> => {
    const now = ownership.ownerOf(partition)
    if (now) return Promise.resolve(now)
    return new Promise((resolve) => {
      const done = (owner: PartitionOwner | undefined) => {
        clearTimeout(timer)
        waiting.delete(wake)
        resolve(owner)
      }
      const wake = () => {
        const owner = ownership.ownerOf(partition)
        if (owner) done(owner)
      }
      const timer = setTimeout(() => done(undefined), Math.max(0, deadline - Date.now()))
      waiting.add(wake)
    })
  }

  /**
   * Read-your-writes holds through whichever instance a client writes to, as for a write made here:
   * a successful answer names the position the owner applied the write at (a movement's, which has
   * none in its body, the owner's X-Saldo-Position), and this instance waits (bounded) until it has
   * applied it too. Past the wait the owner's answer goes out all the same (the write is made; a read
   * elsewhere can pass its position as min_position). Partitions this instance does not read are
   * left out: their reads go to the owner.
   */
  const appliedHere = async (answer: Response, text: string) => {
    if (!answer.ok) return
    let position: unknown
    try {
      position = (JSON.parse(text) as { position?: unknown }).position
    } catch {
      return // not JSON: no position to wait for
    }
    position ??= answer.headers.get(POSITION_HEADER) ?? undefined
    const wanted = typeof position === 'string' ? parsePosition(position) : undefined
    if (!(wanted instanceof Map)) return
    // A partition this instance does not read (partitioned mode) is read from its owner, who has it.
    const here = new Map([...wanted].filter(([partition]) => reads(partition)))
    if (here.size > 0) await watch.waitFor(here, writeWaitMs)
  }

  return {
    metrics: () => [counter.family()],

    /**
     * Resolves when this instance owns the partition of `clienteId`: the route writes it here.
     * Otherwise throws the owner's answer (an OwnerAnswer: status, headers and body as they are), or
     * an ApiError (503) that says why there is none. `body` is the request's parsed JSON body, sent
     * on as JSON.
     */
    async toOwner(request: Request, clienteId: string, body?: unknown): Promise<void> {
      const started = Date.now()
      const partitionCount = partitions()
      // Before the first replay starts nothing is known of the topic; the route answers 503 itself.
      if (partitionCount === 0) return
      const partition = murmur2Partition(encoder.encode(clienteId), partitionCount)
      const owner = await ownerBy(partition, started + timeoutMs)
      if (owner?.self) return
      const forwardedBy = request.headers.get(FORWARDED_BY_HEADER)
      if (forwardedBy !== null) {
        counted('hop_limit')
        throw new ApiError(
          'ownership_moving',
          `ownership of partition ${partition} is moving: ${forwardedBy} sent this write here, but this instance does not own it (now: ${owner?.url ?? 'no owner known'}); retry after the Retry-After seconds`,
          { headers: retryAfter },
        )
      }
      if (!owner) {
        counted('owner_unknown')
        throw new ApiError(
          'ownership_moving',
          `ownership of partition ${partition} is moving: no owner known within ${timeoutMs} ms (the instances are rebalancing); retry after the Retry-After seconds`,
          { headers: retryAfter },
        )
      }
      const url = new URL(request.url)
      const headers: Record<string, string> = { [FORWARDED_BY_HEADER]: ownership.url }
      for (const name of PASSED_ON) {
        const value = request.headers.get(name)
        if (value !== null) headers[name] = value
      }
      let answer: Response
      try {
        answer = await send(`${owner.url}${url.pathname}${url.search}`, {
          method: request.method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          redirect: 'manual',
          signal: AbortSignal.timeout(Math.max(1, started + timeoutMs - Date.now())),
        })
      } catch (error) {
        counted('owner_unreachable')
        throw new ApiError(
          'owner_unreachable',
          `the owner of partition ${partition} (${owner.url}) did not answer within ${timeoutMs} ms (${(error as Error).message}); the write may or may not be made: retry after the Retry-After seconds`,
          { headers: retryAfter },
        )
      }
      counted('forwarded')
      const text = await answer.text()
      await appliedHere(answer, text)
      // A fresh Response: the fetched one's headers are the owner's, and the app may add its own.
      throw new OwnerAnswer(
        new Response(text, {
          status: answer.status,
          statusText: answer.statusText,
          headers: answer.headers,
        }),
      )
    },
  }
}

export type WriteForwarding = ReturnType<typeof writeForwarding>
