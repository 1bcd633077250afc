import { PartitionBehind } from '../kafka/conditional-writer.ts'
import type { Placement } from '../kafka/producer.ts'
import { formatPosition } from '../store/position.ts'
import type { PositionWatch } from '../store/position-watch.ts'
import { ApiError } from './errors.ts'

/** How a failed write to Kafka answers: a refusal as it is, else 503 saying whether to retry. */
export function writeError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  if (error instanceof PartitionBehind) return new ApiError('position_not_reached', error.message)
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
