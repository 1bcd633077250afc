import { MAX_IDEMPOTENCY_KEY } from '../movements/movement.ts'
import { ApiError } from './errors.ts'

// Visible ASCII without `"`: what a header carries unchanged through proxies and logs.
const KEY = new RegExp(`^[\\x21\\x23-\\x7e]{1,${MAX_IDEMPOTENCY_KEY}}$`)
const HOW = `send a key of your own per movement (e.g. a UUID), 1 to ${MAX_IDEMPOTENCY_KEY} visible ASCII characters, and the same key on every retry of that movement`

/** The header's schema options: what OpenAPI says of it, and the error when it is missing. */
export const IDEMPOTENCY_KEY_HEADER = {
  description: `${HOW}. A retry with the same key and body answers what the first attempt answered; the same key with another body is a 409. Remembered for MOVEMENTS_RETENTION_MS`,
  'x-error': `Idempotency-Key is missing; ${HOW}`,
}

/**
 * The request's Idempotency-Key; a 400 without one or when it is malformed. The IETF draft writes it
 * as a quoted string ("8e03978e"): one pair of quotes around it is taken off, so "k" and k are one key.
 */
export function idempotencyKey(headers: Headers): string {
  const raw = headers.get('idempotency-key')
  if (raw === null) throw new ApiError('bad_request', `Idempotency-Key is missing; ${HOW}`)
  const trimmed = raw.trim()
  const key =
    trimmed.length > 1 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1) : trimmed
  if (!KEY.test(key))
    throw new ApiError('bad_request', `Idempotency-Key ${JSON.stringify(raw)} is malformed; ${HOW}`)
  return key
}
