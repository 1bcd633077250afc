import { clienteIdProblem } from '../balance.ts'
import { ApiError } from './errors.ts'

/**
 * How a cliente_id enters the API, wherever it comes from: the path of /saldo/{cliente_id}, the `ids`
 * list of /saldos and /events, the body of POST /saldos. One rule for all of them, so that the same
 * text names the same client everywhere.
 *
 * The URL layer has its say first: Bun builds `request.url` with the WHATWG URL parser, which turns a
 * raw `\` into `/` and resolves the segments `.` and `..` (also spelled `%2e`) away, and Bun offers no
 * raw request target. Its native router decodes params from the raw target instead (measured:
 * `/saldo/a\b` gives the param `a\b` and the URL `/saldo/a/b`; `/saldo/..` the param `..` and the URL
 * `/`), while app.handle routes on `request.url`. So ids are read from `request.url` only: the same
 * request names the same client on a real server and in tests, and a raw `\` shows as the `/` it became.
 */

export const MAX_IDS_PER_REQUEST = 1000

export const HOW_TO_ENCODE = 'percent-encode the id with encodeURIComponent'
const EMPTY_PATH_ID =
  'cliente_id is empty; use /saldo/{cliente_id}. The ids "." and ".." cannot travel in a URL path ' +
  '(URLs resolve them away): read them with GET /saldos?ids=. or POST /saldos'

/**
 * The one rule: `text` is percent-decoded strictly when it comes from a URL (a sequence that is not
 * UTF-8, like `%ff`, is refused rather than turned into U+FFFD), then checked like a topic key.
 */
export function readId(text: string, from: 'url' | 'json'): string {
  let id = text
  // Without a `%` there is nothing to decode (decodeURIComponent would answer the text itself).
  if (from === 'url' && text.includes('%')) {
    try {
      id = decodeURIComponent(text)
    } catch {
      throw new ApiError('bad_request', `cliente_id is not valid percent-encoded UTF-8; ${HOW_TO_ENCODE}`)
    }
  }
  const problem = clienteIdProblem(id)
  if (problem)
    throw new ApiError('bad_request', `${problem}; send an id of 1 to 128 bytes without control characters`)
  return id
}

/**
 * The raw id segment of a /saldo/… path (`/saldo/1/` is client 1); empty for /saldo itself. `path` is
 * the path of `request.url` as Elysia's context gives it (`path`, cut from the URL once per request).
 */
function pathSegment(path: string): string {
  if (!path.startsWith('/saldo/')) return ''
  const end = path.endsWith('/') ? path.length - 1 : path.length
  return path.slice('/saldo/'.length, end)
}

function segmentProblem(segment: string): ApiError | undefined {
  if (segment === '') return new ApiError('bad_request', EMPTY_PATH_ID)
  if (!segment.includes('/')) return undefined
  return new ApiError(
    'bad_request',
    'cliente_id contains a raw / or \\ (URLs turn \\ into /, so a/b and a\\b would be one client); ' +
      `${HOW_TO_ENCODE}: / as %2F, \\ as %5C`,
  )
}

/**
 * The cliente_id of a /saldo/{cliente_id} request, from its path (see pathSegment); `under` is what
 * follows the id in the route, e.g. `/movimentos`.
 */
export function pathId(path: string, under = ''): string {
  const segment = pathSegment(under && path.endsWith(under) ? path.slice(0, -under.length) : path)
  const problem = segmentProblem(segment)
  if (problem) throw problem
  return readId(segment, 'url')
}

/** The answer to a /saldo path that names no single client: /saldo, /saldo/, /saldo/a/b. */
export function refuseIdPath(path: string): never {
  const segment = pathSegment(path)
  throw (
    segmentProblem(segment) ??
    new ApiError('bad_request', `cliente_id ${JSON.stringify(segment)}: use /saldo/{cliente_id}`)
  )
}

/** Distinct ids, at most MAX_IDS_PER_REQUEST, each read by the one rule. */
export function distinctIds(texts: readonly string[], from: 'url' | 'json'): string[] {
  const unique = [...new Set(texts)]
  if (unique.length > MAX_IDS_PER_REQUEST) {
    throw new ApiError(
      'bad_request',
      `${unique.length} ids; ask for at most ${MAX_IDS_PER_REQUEST} per request`,
    )
  }
  return [...new Set(unique.map((text) => readId(text, from)))]
}

/**
 * The ids of the `ids` query parameter, or undefined without one. The raw query is split on literal
 * commas before decoding, so `a%2Cb` is the one id `a,b`; `+` is a plus sign, as in a path.
 */
export function queryIds(request: Request): string[] | undefined {
  const query = new URL(request.url).search.slice(1)
  const lists = query
    .split('&')
    .filter((pair) => pair.startsWith('ids='))
    .map((pair) => pair.slice('ids='.length))
  if (lists.length === 0) return undefined
  return distinctIds(lists.join(',').split(','), 'url')
}
