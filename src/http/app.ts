import { openapi } from '@elysiajs/openapi'
import { Elysia, type ValidationError } from 'elysia'
import packageJson from '../../package.json'
import { EVENT_SCHEMAS } from '../events/models.ts'
import type { Logger } from '../log.ts'
import { ApiError } from './errors.ts'
import { requestMetrics } from './request-metrics.ts'
import { type BalanceRoutesDeps, balanceRoutes } from './routes/balances.ts'
import { docsRoutes } from './routes/docs.ts'
import { type EventRoutesDeps, eventRoutes } from './routes/events.ts'
import { type HealthRoutesDeps, healthRoutes } from './routes/health.ts'
import { type MetricsRoutesDeps, metricsRoutes } from './routes/metrics.ts'

export type AppDeps = BalanceRoutesDeps &
  HealthRoutesDeps &
  MetricsRoutesDeps &
  EventRoutesDeps & { log: Logger }

/** GET /openapi.json, generated from the routes' TypeBox schemas. */
const openapiDocument = () =>
  openapi({
    // Its built-in pages load their UI from a CDN; /docs is our own page, served from the binary.
    provider: null,
    specPath: '/openapi.json',
    documentation: {
      info: { title: 'saldo', version: packageJson.version, description: packageJson.description },
      // The data of each /events event type; TypeBox schemas are JSON Schema, as OpenAPI 3.1 expects.
      components: { schemas: EVENT_SCHEMAS as Record<string, object> },
    },
  })

function validationMessage(error: ValidationError): string {
  const first = error.all[0]
  const where = first && 'path' in first && first.path ? first.path.slice(1) : error.type
  // A path segment that is not valid percent-encoded UTF-8 reaches the route as null.
  if (error.type === 'params' && first && 'value' in first && first.value === null) {
    return `${where} is not valid percent-encoded UTF-8; encode the id with encodeURIComponent`
  }
  return `invalid ${error.type}: ${where ? `${where}: ` : ''}${first?.message ?? 'check the request'}`
}

/** Elysia's own failures (bad input, unknown route) as our JSON errors, with a hint to the fix. */
function frameworkError(code: unknown, error: unknown, method: string, path: string): [number, string] {
  switch (code) {
    case 'VALIDATION':
      return [400, validationMessage(error as ValidationError)]
    case 'PARSE':
      return [400, 'the body could not be parsed; send valid JSON with Content-Type: application/json']
    case 'NOT_FOUND':
      return [404, `no route ${method} ${path}; see /docs for the API`]
    default:
      return [500, 'internal error; it was logged, please retry']
  }
}

/** The HTTP API. It only reads the store and the replay progress; it never touches Kafka. */
export function createApp(deps: AppDeps) {
  const http = requestMetrics()
  return new Elysia()
    .onError(({ code, error, request, path, set }) => {
      if (error instanceof ApiError) {
        set.status = error.status
        Object.assign(set.headers, error.extra.headers)
        return { error: error.message, ...(error.extra.progress ? { progress: error.extra.progress } : {}) }
      }
      const [status, message] = frameworkError(code, error, request.method, path)
      if (status >= 500) deps.log.error('request failed', { method: request.method, path, error })
      set.status = status
      return { error: message }
    })
    .use(http.plugin)
    .use(openapiDocument())
    .use(balanceRoutes(deps))
    .use(healthRoutes(deps))
    .use(metricsRoutes(deps, http.metrics))
    .use(eventRoutes(deps))
    .use(docsRoutes())
}

export type App = ReturnType<typeof createApp>
