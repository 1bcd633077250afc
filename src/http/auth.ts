import { createHash, timingSafeEqual } from 'node:crypto'
import { ApiError } from './errors.ts'

const digest = (text: string) => createHash('sha256').update(text).digest()
// The scheme is case-insensitive (RFC 9110 11.1): Bearer, bearer, BEARER.
const BEARER_HEADER = /^bearer +(.+)$/i

/** The scheme /openapi.json declares for Authorization: Bearer <SALDO_API_TOKEN>. */
export const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'Authorization: Bearer <SALDO_API_TOKEN>, the token the server is configured with',
  },
} as const

/** An operation that needs the token (`security` of OpenAPI), and one that is open. */
export const BEARER: Array<Record<keyof typeof SECURITY_SCHEMES, string[]>> = [{ bearer: [] }]
export const OPEN: [] = []

/**
 * The hooks of routes open to anyone whatever the configuration: OpenAPI says so (`security: []`).
 * A fresh object each time: Elysia merges route details into the group's in place.
 */
export const openAccess = () => ({ detail: { security: OPEN } })

/**
 * The hooks of the routes behind `token`: the check, and the `security` that /openapi.json shows for
 * them (open when no token is configured). The one place that marks a route as guarded: a route group
 * starts with `new Elysia().guard(bearerAuth(token))`.
 */
export function bearerAuth(token: string | undefined) {
  return { transform: bearerGuard(token), detail: { security: token === undefined ? OPEN : BEARER } }
}

/**
 * A check of `Authorization: Bearer <token>` for the routes that need it. Without a configured token
 * it lets everything through. Compares digests in constant time, so neither the token nor its length
 * leaks through timing.
 */
export function bearerGuard(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token)
  return ({ request }: { request: Request }) => {
    if (!expected) return
    const given = BEARER_HEADER.exec(request.headers.get('authorization') ?? '')?.[1]
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      throw new ApiError(
        'unauthorized',
        'missing or wrong bearer token; send Authorization: Bearer <SALDO_API_TOKEN>',
        {
          headers: { 'www-authenticate': 'Bearer realm="saldo"' },
        },
      )
    }
  }
}
