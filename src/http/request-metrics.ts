import { Elysia, StatusMap } from 'elysia'
import { Counter, Histogram } from '../metrics/instruments.ts'
import { gauge, type MetricFamily } from '../metrics/prometheus.ts'

// Most answers take well under a millisecond; the upper buckets catch waits and slow clients.
const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Label for requests that matched no route: one value however many paths clients try. */
export const UNMATCHED_ROUTE = 'unmatched'

/**
 * When the request arrived, kept on Elysia's per-request `set` (a plain object made for each request,
 * which Response ignores the symbol of): no WeakMap to fill and look up per request.
 */
const STARTED_AT = Symbol('startedAt')
type Timed = { [STARTED_AT]?: number }
type AnswerSet = { status?: number | string }

/** The series of one method and route: the latency histogram, and a request counter per status. */
interface RouteSeries {
  latency: (seconds: number) => void
  byStatus: Map<number, { value: number }>
}

/**
 * Counts every answer by method, route pattern (`/saldo/:cliente_id`, never the raw path, so the
 * number of series stays bounded) and status, with a latency histogram. For a streamed answer
 * (/events) the latency is the time to its headers. Counted synchronously as the answer is mapped
 * (Elysia's onAfterResponse would schedule a task per request), into series bound once per route
 * and status.
 */
export function requestMetrics() {
  const requests = new Counter(
    'saldo_http_requests_total',
    'HTTP requests answered, by route pattern and status.',
    ['method', 'route', 'status'],
  )
  const latency = new Histogram(
    'saldo_http_request_duration_seconds',
    'Time to answer an HTTP request, in seconds, by route pattern.',
    ['method', 'route'],
    LATENCY_BUCKETS_S,
  )
  // route → method → series: two lookups of strings Elysia already holds, no key built per request.
  const bound = new Map<string, Map<string, RouteSeries>>()
  const seriesOf = (method: string, route: string): RouteSeries => {
    let byMethod = bound.get(route)
    if (!byMethod) {
      byMethod = new Map()
      bound.set(route, byMethod)
    }
    let series = byMethod.get(method)
    if (!series) {
      series = { latency: latency.bind({ method, route }), byStatus: new Map() }
      byMethod.set(method, series)
    }
    return series
  }
  let inFlight = 0

  /** One answer of `code`, in the series of its method and route; `started`: performance.now() on arrival. */
  const count = (method: string, route: string, code: number, started: number | undefined) => {
    const series = seriesOf(method, route || UNMATCHED_ROUTE)
    let counter = series.byStatus.get(code)
    if (!counter) {
      counter = requests.bind({ method, route: route || UNMATCHED_ROUTE, status: String(code) })
      series.byStatus.set(code, counter)
    }
    counter.value++
    if (started !== undefined) series.latency((performance.now() - started) / 1000)
  }

  const observe = (method: string, route: string, set: AnswerSet & Timed, answer: unknown) => {
    inFlight--
    const status = answer instanceof Response ? answer.status : set.status
    const code = typeof status === 'number' ? status : StatusMap[(status ?? 'OK') as keyof StatusMap]
    count(method, route, code, set[STARTED_AT])
  }

  /** A synchronous handler's wait (min_position): counted once it settles, with the status it set. */
  const observeLater = (answer: Promise<unknown>, method: string, route: string, set: AnswerSet) => {
    const done = () => observe(method, route, set, undefined)
    answer.then(done, done)
  }

  const plugin = new Elysia()
    .onRequest(({ set }) => {
      ;(set as Timed)[STARTED_AT] = performance.now()
      inFlight++
    })
    // Runs for every answer, errors included; what it returns is the answer, unchanged.
    // Elysia composes every route async when a hook's source has `async`, `await`, or a call right
    // after `return` or `=>`: this one has none, so that the routes stay synchronous.
    .mapResponse({ as: 'global' }, ({ request, route, set, responseValue }) => {
      if (responseValue instanceof Promise) observeLater(responseValue, request.method, route, set)
      else observe(request.method, route, set, responseValue)
      return responseValue as Response
    })
  return {
    plugin,
    /** Counts an answer given without Elysia (the native read, native-read.ts), in the same series. */
    count,
    metrics: (): MetricFamily[] => [
      requests.family(),
      latency.family(),
      gauge('saldo_http_requests_in_flight', 'HTTP requests received and not yet answered.', inFlight),
    ],
  }
}
