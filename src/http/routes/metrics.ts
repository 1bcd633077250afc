import { Elysia, t } from 'elysia'
import type { ApplyNumbers } from '../../kafka/apply-numbers.ts'
import { METRICS_CONTENT_TYPE, type MetricSource, renderMetrics } from '../../metrics/prometheus.ts'
import type { OwnershipSource } from '../../ownership/models.ts'
import { auth } from '../auth.ts'
import { ErrorBody, StatsBody } from '../models.ts'

export interface MetricsRoutesDeps {
  /** Everything measured outside HTTP (materializer, change stream, process). */
  metrics: MetricSource
  /** The apply path's counters and lag, for people and pages rather than Prometheus. */
  numbers: Pick<ApplyNumbers, 'summary'>
  /** Who owns which partition, shown with the numbers. */
  ownership: Pick<OwnershipSource, 'status'>
}

/**
 * Prometheus' scrape endpoint (the service's sources plus this app's own request metrics) and its
 * JSON digest. Open, or behind the bearer token when `token` is given (METRICS_PUBLIC=false).
 */
export function metricsRoutes(
  { metrics, numbers, ownership }: MetricsRoutesDeps,
  httpMetrics: MetricSource,
  token: string | undefined,
) {
  return new Elysia()
    .use(auth(token))
    .get(
      '/metrics',
      ({ set }) => {
        set.headers['content-type'] = METRICS_CONTENT_TYPE
        return renderMetrics([...metrics(), ...httpMetrics()])
      },
      {
        response: {
          200: t.String({ description: 'Prometheus text exposition format 0.0.4' }),
          401: ErrorBody,
        },
        access: 'token',
        detail: { summary: 'Metrics for Prometheus: records, lag per partition, replay, HTTP, memory' },
      },
    )
    .get('/stats', () => ({ ...numbers.summary(), ownership: ownership.status() }), {
      response: { 200: StatsBody, 401: ErrorBody },
      access: 'token',
      detail: {
        summary:
          'Records applied and rejected, keys and lag per partition, and the partition owners, as JSON (the dashboard reads it)',
      },
    })
}
