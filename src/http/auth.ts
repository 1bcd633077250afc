import { Elysia } from 'elysia'
import { ApiError } from './errors.ts'
import { jsonParse } from './json-body.ts'

const SCHEME = 'bearer'
const SPACE = 32

/**
 * Where the token starts in `Bearer <token>`, or -1: the scheme in any case (RFC 9110 11.1: Bearer,
 * bearer, BEARER), then one or more spaces. Read character by character: no match array per request.
 */
function tokenStart(header: string): number {
  // OR-ing 0x20 lowercases an ASCII letter, and turns no other character into one.
  for (let i = 0; i < SCHEME.length; i++)
    if ((header.charCodeAt(i) | 0x20) !== SCHEME.charCodeAt(i)) return -1
  let at = SCHEME.length
  while (header.charCodeAt(at) === SPACE) at++
  return at === SCHEME.length ? -1 : at
}

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
 * Whether an Authorization header carries `token`, compared in constant time without hashing or
 * allocating per request. The configured token is visible ASCII (config.ts). Lengths first: a
 * different length answers at once, which tells an attacker the token's length and nothing of its
 * content (a configured token has 16+ characters: the secret is in them, not in their number). Equal
 * lengths: every character is compared, the differences OR-ed together with no early exit, so the
 * time does not depend on where a guess goes wrong. A non-ASCII character (code unit > 127) always
 * differs from the token's. No SHA-256 digest per request: it only served to make lengths equal.
 */
export function tokenCheck(token: string): (authorization: string | null) => boolean {
  return (authorization) => {
    const at = authorization === null ? -1 : tokenStart(authorization)
    if (authorization === null || at < 0 || authorization.length - at !== token.length) return false
    let difference = 0
    for (let i = 0; i < token.length; i++)
      difference |= authorization.charCodeAt(at + i) ^ token.charCodeAt(i)
    return difference === 0
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
