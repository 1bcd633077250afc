import { PartitionBehind } from '../kafka/conditional-writer.ts'
import { PartitionMoving } from '../kafka/owned-partitions.ts'
import type { Placement } from '../kafka/producer.ts'
import { Fenced } from '../kafka/transaction-errors.ts'
import { formatPosition } from '../store/position.ts'
import type { PositionWatch } from '../store/position-watch.ts'
import { ApiError } from './errors.ts'

/** How a failed write to Kafka answers: a refusal as it is, else 503 saying whether to retry. */
export function writeError(error: unknown, retryAfterSeconds: number): ApiError {
  if (error instanceof ApiError) return error
  if (error instanceof PartitionBehind) return new ApiError('position_not_reached', error.message)
  // Not this instance's partition (any more): nothing was written, and the group is moving it.
  if (error instanceof PartitionMoving || error instanceof Fenced) {
    return new ApiError('ownership_moving', error.message, {
      headers: { 'retry-after': String(retryAfterSeconds) },
    })
  }
  return new ApiError(
    'kafka_unavailable',
    `Kafka did not confirm the write (${(error as Error).message}); it may not have been made: retry`,
  )
}

/**
 * Waits until this instance has applied the record written `at` (read-your-writes) and returns that
 * position as text; a 504 naming it when that takes over `waitMs`.
 */
export async function appliedHere(watch: PositionWatch, at: Placement, waitMs: number): Promise<string> {
  const wanted = new Map([[at.partition, at.offset + 1]])
  const position = formatPosition(wanted)
  if (await watch.waitFor(wanted, waitMs)) return position
  throw new ApiError(
    'write_timeout',
    `written to Kafka at ${position} but not applied here within ${waitMs} ms; read with min_position=${position}`,
    { position },
  )
}
