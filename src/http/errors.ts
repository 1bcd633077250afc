import type { Balance } from '../balance.ts'
import type { Progress } from '../kafka/replay-progress.ts'
import type { ErrorBody, PreconditionFailedBody } from './models.ts'

const STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  below_floor: 422,
  internal: 500,
  not_ready: 503,
  not_current: 503,
  position_not_reached: 503,
  kafka_unavailable: 503,
  too_many_streams: 503,
  ownership_moving: 503,
  owner_unreachable: 503,
  write_timeout: 504,
} as const
export type ErrorCode = keyof typeof STATUS

/** The one error type routes throw; the app's onError turns it into a JSON answer. */
export class ApiError extends Error {
  readonly status: number

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: {
      progress?: Progress
      position?: string
      headers?: Record<string, string>
      /** A failed precondition's (or a refused movement's) answer carries the current balance (null: none). */
      saldo?: Balance | null
    } = {},
  ) {
    super(message)
    this.name = 'ApiError'
    this.status = STATUS[code]
  }
}

/** The contract's 404 text for an unknown client. */
export const CLIENT_NOT_FOUND = 'cliente não encontrado'

/**
 * An ApiError as an answer: its status and headers onto `set`, its body returned. The app's onError
 * uses it, and so does a synchronous handler that answers a promise of its own (Elysia does not catch
 * what such a promise rejects with).
 */
export function answerError(
  error: ApiError,
  set: { status?: number | string; headers: Record<string, unknown> },
): ErrorBody | PreconditionFailedBody {
  set.status = error.status
  Object.assign(set.headers, error.extra.headers)
  const { progress, position, saldo } = error.extra
  return {
    error: error.message,
    ...(progress ? { progress } : {}),
    ...(position ? { position } : {}),
    ...(saldo !== undefined ? { saldo } : {}),
  }
}
