import { Elysia, t } from 'elysia'
import { METRICS_CONTENT_TYPE, type MetricSource, renderMetrics } from '../../metrics/prometheus.ts'
import { bearerGuard } from '../auth.ts'

export interface MetricsRoutesDeps {
  /** Everything measured outside HTTP (materializer, change stream, process). */
  metrics: MetricSource
}

/**
 * Prometheus' scrape endpoint: the service's sources plus this app's own request metrics. Open, or
 * behind the bearer token when `token` is given (METRICS_PUBLIC=false).
 */
export function metricsRoutes(
  { metrics }: MetricsRoutesDeps,
  httpMetrics: MetricSource,
  token: string | undefined,
) {
  return new Elysia().onTransform(bearerGuard(token)).get(
    '/metrics',
    ({ set }) => {
      set.headers['content-type'] = METRICS_CONTENT_TYPE
      return renderMetrics([...metrics(), ...httpMetrics()])
    },
    {
      response: { 200: t.String({ description: 'Prometheus text exposition format 0.0.4' }) },
      detail: { summary: 'Metrics for Prometheus: records, lag per partition, replay, HTTP, memory' },
    },
  )
}
