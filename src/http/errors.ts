import type { Progress } from '../kafka/replay-progress.ts'

export const ERROR_CODES = ['bad_request', 'not_found', 'not_ready', 'internal'] as const
export type ErrorCode = (typeof ERROR_CODES)[number]

const STATUS: Record<ErrorCode, number> = { bad_request: 400, not_found: 404, not_ready: 503, internal: 500 }

/** The one error type routes throw; the app's onError turns it into a JSON answer. */
export class ApiError extends Error {
  readonly status: number

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: { progress?: Progress; headers?: Record<string, string> } = {},
  ) {
    super(message)
    this.name = 'ApiError'
    this.status = STATUS[code]
  }
}

/** The contract's 404 text for an unknown client. */
export const CLIENT_NOT_FOUND = 'cliente não encontrado'
