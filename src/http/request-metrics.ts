import { Elysia, StatusMap } from 'elysia'
import { Counter, Histogram } from '../metrics/instruments.ts'
import { gauge, type MetricFamily } from '../metrics/prometheus.ts'

// Most answers take well under a millisecond; the upper buckets catch waits and slow clients.
const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Label for requests that matched no route: one value however many paths clients try. */
export const UNMATCHED_ROUTE = 'unmatched'

/**
 * Counts every answer by method, route pattern (`/saldo/:cliente_id`, never the raw path, so the
 * number of series stays bounded) and status, with a latency histogram. For a streamed answer
 * (/events) the latency is the time to its headers.
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
  const startedAt = new WeakMap<Request, number>()
  let inFlight = 0
  const plugin = new Elysia()
    .onRequest(({ request }) => {
      startedAt.set(request, performance.now())
      inFlight++
    })
    .onAfterResponse({ as: 'global' }, ({ request, route, set, responseValue }) => {
      inFlight--
      const status = responseValue instanceof Response ? responseValue.status : set.status
      const labels = { method: request.method, route: route || UNMATCHED_ROUTE }
      requests.inc({
        ...labels,
        status: String(typeof status === 'number' ? status : StatusMap[status ?? 'OK']),
      })
      const started = startedAt.get(request)
      if (started !== undefined) latency.observe(labels, (performance.now() - started) / 1000)
    })
  return {
    plugin,
    metrics: (): MetricFamily[] => [
      requests.family(),
      latency.family(),
      gauge('saldo_http_requests_in_flight', 'HTTP requests received and not yet answered.', inFlight),
    ],
  }
}
