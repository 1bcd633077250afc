import { timingSafeEqual } from 'node:crypto'
import { Elysia } from 'elysia'
import { ApiError } from './errors.ts'
import { jsonParse } from './json-body.ts'

// The scheme is case-insensitive (RFC 9110 11.1): Bearer, bearer, BEARER.
const BEARER_PREFIX = /^bearer +/i

/** The scheme /openapi.json declares for Authorization: Bearer <SALDO_API_TOKEN>. */
export const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'Authorization: Bearer <SALDO_API_TOKEN>, the token the server is configured with',
  },
} as const

/** An operation that needs the token (`security` of OpenAPI), and one that is open. */
const BEARER: Array<Record<keyof typeof SECURITY_SCHEMES, string[]>> = [{ bearer: [] }]
const OPEN: [] = []

/**
 * Whether an Authorization header carries `token`. The configured token is visible ASCII (config.ts),
 * so its bytes are computed once. Per request: the header's token as bytes, a length check, then
 * timingSafeEqual over equal lengths. The time then depends on the given length and on nothing of
 * the token's content; the length check tells an attacker only whether their guess has the token's
 * length, which a configured token of 16+ characters can afford (the secret is in the bytes). No
 * digest per request: hashing both sides only served to make lengths equal.
 */
export function tokenCheck(token: string): (authorization: string | null) => boolean {
  const expected = Buffer.from(token)
  return (authorization) => {
    const prefix = authorization === null ? null : BEARER_PREFIX.exec(authorization)
    if (!prefix || authorization === null) return false
    const given = Buffer.from(authorization.slice(prefix[0].length))
    return given.length === expected.length && timingSafeEqual(given, expected)
  }
}

/**
 * Who may call a route: `open` to anyone; `token` with the bearer token when one is configured;
 * `write` only with a configured token (writes are disabled without one). A route that reads a JSON
 * body names its limit and shape too: the token is checked in its parse hook, before the body is read.
 */
export type Access =
  | 'open'
  | 'token'
  | 'write'
  | { needs: 'token' | 'write'; jsonBody: { limitBytes: number; shape: string } }

/**
 * The one auth check, as an Elysia macro: `{ access: 'token' }` on a route checks the token once per
 * request and sets the route's OpenAPI `security`. Routes declare it; no plugin builds its own guard.
 * `token` undefined: no token is configured, `token` routes are open and `write` routes answer 403.
 */
export function auth(token: string | undefined) {
  const carries = token === undefined ? undefined : tokenCheck(token)
  const requireToken = ({ request }: { request: Request }) => {
    if (!carries || carries(request.headers.get('authorization'))) return
    throw new ApiError(
      'unauthorized',
      'missing or wrong bearer token; send Authorization: Bearer <SALDO_API_TOKEN>',
      { headers: { 'www-authenticate': 'Bearer realm="saldo"' } },
    )
  }
  const requireWrites = ({ request }: { request: Request }) => {
    if (carries === undefined) {
      throw new ApiError(
        'forbidden',
        'writes are disabled; set SALDO_API_TOKEN on the server to enable PUT and DELETE',
      )
    }
    requireToken({ request })
  }
  return new Elysia({ name: 'saldo-auth', seed: token }).macro({
    access: (access: Access) => {
      // Writes always name the bearer scheme: with no token configured they are disabled (403).
      const needs = typeof access === 'string' ? access : access.needs
      const security = needs === 'write' || (needs === 'token' && carries) ? BEARER : OPEN
      // A fresh object each time: Elysia merges route details into it in place.
      const detail = { security: [...security] }
      if (needs === 'open') return { detail }
      const check = needs === 'write' ? requireWrites : requireToken
      if (typeof access === 'string') return { transform: check, detail }
      const { limitBytes, shape } = access.jsonBody
      // Elysia's macro type lists parse functions only; at run time the route gets this array as its
      // own `parse` option would give it, the content type included (for OpenAPI).
      return { parse: jsonParse(check, limitBytes, shape) as unknown as typeof check, detail }
    },
  })
}
