import type { AnyElysia } from 'elysia'
import { createBunRouteHandler } from 'elysia/adapter/bun/compose'
import type { PositionWatch } from '../store/position-watch.ts'
import type { BalanceStore } from '../store/store.ts'
import { tokenCheck } from './auth.ts'
import { pathId } from './ids.ts'
import { JSON_CONTENT_TYPE } from './models.ts'
import { BALANCE_ROUTE, NOT_FOUND_BODY } from './routes/balances.ts'
import { MIN_POSITION_HEADER, POSITION_HEADER, type StateAccess } from './state-access.ts'

export interface NativeReadDeps {
  token: string | undefined
  access: Pick<StateAccess, 'requireReady'>
  /** What the route answers from, as Elysia's route does (balances.ts, balanceAnswer). */
  store: Pick<BalanceStore, 'answer'>
  watch: Pick<PositionWatch, 'text'>
  /** Counts the answer in the request metrics (request-metrics.ts, count). */
  count: (method: string, route: string, code: number, started: number) => void
  /** Elysia's own handler of the route (routeHandler): every answer but the usual read. */
  elysiaRoute: () => RouteHandler
}

type RouteHandler = (request: Request) => Response | Promise<Response>

/**
 * GET /saldo/:cliente_id as Bun's router hands it to saldo, for Elysia's `serve.routes`: the usual read
 * (a GET, no query, no X-Saldo-Min-Position, the right token, the replay done, the id well formed) answered
 * here with the answer Elysia's route gives (balanceAnswer: the balance and its ETag, or the 404 body,
 * with the position), and every other request handed to Elysia, which answers it as it answers without
 * this handler (401, 503, 400, min_position…).
 *
 * Why: Elysia's composed route runs its hooks per request (the request metrics' onRequest and
 * mapResponse, the auth macro's transform, the params and query validators with TypeBox's Clean) and
 * builds a context object for them. For this one route, the hottest of the API, answering here took
 * saturation ÷ a bare Bun.serve from 0.84 to 0.94 x in a side-by-side run (README, tuning notes). The
 * route stays declared in Elysia, with its schemas, so /openapi.json, the typed client and app.handle
 * see it unchanged; native-read.test.ts compares the two paths answer by answer.
 *
 * Each answer's headers are copied from one of two `Headers` kept here, where a headers object literal
 * was converted name by name per answer: `Response.json` with the three headers took 0.9–1.1 µs as an
 * object, 0.7–0.9 µs from a kept `Headers`, 0.3–0.4 µs with no headers (README, tuning notes). A
 * Response copies its init's headers, so an answer keeps its ETag and position whatever the next sets.
 */
export function nativeRead({
  token,
  access,
  store,
  watch,
  count,
  elysiaRoute,
}: NativeReadDeps): RouteHandler {
  const carries = token === undefined ? undefined : tokenCheck(token)
  const found = { headers: new Headers({ 'content-type': JSON_CONTENT_TYPE }), status: 200 }
  const missing = { headers: new Headers({ 'content-type': JSON_CONTENT_TYPE }), status: 404 }
  let position: string | undefined
  let handler: RouteHandler | undefined
  const elysia: RouteHandler = (request) => {
    handler ??= elysiaRoute()
    return handler(request)
  }
  return (request) => {
    const started = performance.now()
    const url = request.url
    const headers = request.headers
    // HEAD comes here too (Bun answers it with the GET route); Elysia counts it under its own method.
    if (
      request.method !== 'GET' ||
      url.includes('?') ||
      headers.get(MIN_POSITION_HEADER) !== null ||
      (carries !== undefined && !carries(headers.get('authorization')))
    )
      return elysia(request)
    let id: string
    try {
      access.requireReady()
      // The path of the URL, as Elysia's context cuts it (past "http://" and the host).
      id = pathId(url.slice(url.indexOf('/', 11)))
    } catch {
      return elysia(request)
    }
    const text = watch.text
    if (text !== position) {
      position = text
      found.headers.set(POSITION_HEADER, text)
      missing.headers.set(POSITION_HEADER, text)
    }
    const answer = store.answer(id)
    if (answer === undefined) {
      count('GET', BALANCE_ROUTE, 404, started)
      return Response.json(NOT_FOUND_BODY, missing)
    }
    found.headers.set('etag', answer.etag)
    count('GET', BALANCE_ROUTE, 200, started)
    return Response.json(answer.balance, found)
  }
}

/**
 * The handler Elysia gives Bun's router for one of `app`'s routes (what `listen` would have put in
 * `serve.routes`), for a request Bun routed there: the URL may name another path than the route
 * (Bun routes on the raw target, the URL resolves `..`), so Elysia's own router must not route it again.
 */
export function routeHandler(app: AnyElysia, method: string, path: string): RouteHandler {
  const route = app.router.history.find((r) => r.method === method && r.path === path)
  if (!route) throw new Error(`${method} ${path} is not a route of this app`)
  return createBunRouteHandler(app, route)
}
