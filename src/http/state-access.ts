import type { ReplayProgress } from '../kafka/replay-progress.ts'
import { parsePosition } from '../store/position.ts'
import type { PositionWatch } from '../store/position-watch.ts'
import type { BalanceStore } from '../store/store.ts'
import { ApiError } from './errors.ts'

/** What a route needs to read state consistently. */
export interface StateAccessDeps {
  progress: ReplayProgress
  /** A store that cannot take batches falls behind the topic: its state is not served as current. */
  store: Pick<BalanceStore, 'writeError' | 'origin'>
  watch: PositionWatch
  retryAfterSeconds: number
  minPositionWaitMs: number
}

export const POSITION_HEADER = 'x-saldo-position'
export const MIN_POSITION_HEADER = 'x-saldo-min-position'

/** Guards for reads: the replay is complete, and the store has reached what the client already saw. */
export function stateAccess({
  progress,
  store,
  watch,
  retryAfterSeconds,
  minPositionWaitMs,
}: StateAccessDeps) {
  const retryAfter = { 'retry-after': String(retryAfterSeconds) }
  return {
    /**
     * Answers 503 until the replay is complete, so no key is reported missing early, and while the
     * store cannot take batches, so no stale answer passes for a current one.
     */
    requireReady(): void {
      if (!progress.ready) {
        throw new ApiError('not_ready', 'still replaying the topic; retry after the Retry-After seconds', {
          progress: progress.snapshot(),
          headers: retryAfter,
        })
      }
      const { writeError } = store
      if (writeError === undefined) return
      throw new ApiError(
        'not_current',
        `this instance is behind the topic: ${writeError}; retry after the Retry-After seconds`,
        { headers: retryAfter },
      )
    },

    /**
     * Waits (bounded) until the store reaches the position the client asks for; 503 if it does not.
     * Undefined, at once, when none is asked: the usual read stays synchronous.
     */
    reach(
      request: Request,
      query: { min_position?: string },
      only?: ReadonlySet<number>,
    ): Promise<void> | undefined {
      const text = query.min_position ?? request.headers.get(MIN_POSITION_HEADER)
      return text ? reachPosition(text, only) : undefined
    },
  }

  /** `only`: MODE=partitioned, the partitions of the keys read here (the position may name others). */
  async function reachPosition(text: string, only?: ReadonlySet<number>): Promise<void> {
    const parsed = parsePosition(text)
    if (typeof parsed === 'string') throw new ApiError('bad_request', `min_position: ${parsed}`)
    const wanted = only ? new Map([...parsed].filter(([partition]) => only.has(partition))) : parsed
    // A partition the topic does not have would never be reached: say so now, not after the wait.
    const count = store.origin?.partitions ?? progress.partitionCount
    const missing = [...parsed.keys()].find((partition) => count > 0 && partition >= count)
    if (missing !== undefined) {
      throw new ApiError(
        'bad_request',
        `min_position: the topic has no partition ${missing} (it has 0..${count - 1}); pass a position this service answered`,
      )
    }
    if (await watch.waitFor(wanted, minPositionWaitMs)) return
    throw new ApiError(
      'position_not_reached',
      `this instance has not reached ${text} within ${minPositionWaitMs} ms; retry`,
      {
        position: watch.text,
        headers: { ...retryAfter, [POSITION_HEADER]: watch.text },
      },
    )
  }
}
export type StateAccess = ReturnType<typeof stateAccess>
