import { createHash, timingSafeEqual } from 'node:crypto'
import { ApiError } from './errors.ts'

const digest = (text: string) => createHash('sha256').update(text).digest()
// The scheme is case-insensitive (RFC 9110 11.1): Bearer, bearer, BEARER.
const BEARER = /^bearer +(.+)$/i

/**
 * A check of `Authorization: Bearer <token>` for the routes that need it. Without a configured token
 * it lets everything through. Compares digests in constant time, so neither the token nor its length
 * leaks through timing.
 */
export function bearerGuard(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token)
  return ({ request }: { request: Request }) => {
    if (!expected) return
    const given = BEARER.exec(request.headers.get('authorization') ?? '')?.[1]
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
