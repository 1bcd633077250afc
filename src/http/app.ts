import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'
import packageJson from '../../package.json'
import type { Config } from '../config.ts'
import { EVENT_SCHEMAS } from '../events/models.ts'
import type { ApplyNumbers } from '../kafka/apply-numbers.ts'
import type { Logger } from '../log.ts'
import type { MovementIndex } from '../movements/movement-index.ts'
import type { OwnershipSource } from '../ownership/models.ts'
import type { PositionWatch } from '../store/position-watch.ts'
import type { BalanceStore } from '../store/store.ts'
import type { TombstoneOutcomes } from '../store/tombstone-outcomes.ts'
import { SECURITY_SCHEMES } from './auth.ts'
import { ApiError, answerError } from './errors.ts'
import { type ForwardingDeps, OwnerAnswer, writeForwarding } from './forwarding.ts'
import { frameworkError, routeMethods } from './framework-errors.ts'
import { nativeRead, routeHandler } from './native-read.ts'
import { partitionedReads } from './partitioned-reads.ts'
import { requestMetrics } from './request-metrics.ts'
import { BALANCE_ROUTE, balanceRoutes } from './routes/balances.ts'
import { dashboardRoutes } from './routes/dashboard.ts'
import { docsRoutes } from './routes/docs.ts'
import { type EventRoutesDeps, eventRoutes } from './routes/events.ts'
import { type HealthRoutesDeps, healthRoutes } from './routes/health.ts'
import { type MetricsRoutesDeps, metricsRoutes } from './routes/metrics.ts'
import { type MovementWrites, movementRoutes } from './routes/movements.ts'
import { type BalanceWrites, writeRoutes } from './routes/writes.ts'
import { stateAccess } from './state-access.ts'

export interface AppDeps extends HealthRoutesDeps, MetricsRoutesDeps, EventRoutesDeps {
  store: BalanceStore
  /** The apply path's numbers: /ready, /stats, and the replay progress that reads wait for. */
  numbers: ApplyNumbers
  log: Logger
  watch: PositionWatch
  outcomes: TombstoneOutcomes
  writer: BalanceWrites
  /** The movements topic as this instance read it; `writer` undefined: POST …/movimentos is not served. */
  movements: { index: MovementIndex; watch: PositionWatch; writer: MovementWrites | undefined }
  /** Who owns which partition: writes for another instance's partition are forwarded to it. */
  ownership: OwnershipSource
  /** How forwarded writes reach their owner; the global fetch unless a test gives another. */
  fetch?: ForwardingDeps['fetch']
  settings: Pick<
    Config,
    | 'TOPIC'
    | 'MOVEMENTS_TOPIC'
    | 'MIN_SALDO'
    | 'SALDO_API_TOKEN'
    | 'METRICS_PUBLIC'
    | 'RETRY_AFTER_S'
    | 'MIN_POSITION_WAIT_MS'
    | 'WRITE_WAIT_MS'
    | 'MAX_BODY_BYTES'
    | 'FORWARD_TIMEOUT_MS'
    | 'MODE'
    | 'READ_FORWARD_TIMEOUT_MS'
  >
}

/** GET /openapi.json, generated from the routes' TypeBox schemas. */
const openapiDocument = () =>
  openapi({
    // Its built-in pages load their UI from a CDN; /docs is our own page, served from the binary.
    provider: null,
    specPath: '/openapi.json',
    documentation: {
      info: { title: 'saldo', version: packageJson.version, description: packageJson.description },
      // Relative: the paths are on the instance that serves this document, whatever its address.
      servers: [{ url: '/', description: 'the saldo-api instance that serves this document' }],
      components: {
        // The data of each /events event type; TypeBox schemas are JSON Schema, as OpenAPI 3.1 expects.
        schemas: EVENT_SCHEMAS as Record<string, object>,
        // Each operation names it (or says it is open) in its security: see the access macro (auth.ts).
        securitySchemes: SECURITY_SCHEMES,
      },
    },
  })

/** The HTTP API. It only reads the store and the apply path's numbers; it never touches Kafka. */
export function createApp(deps: AppDeps) {
  const { store, numbers, watch, settings } = deps
  // Built on the first unknown route, once every route is registered.
  let methodsOf: ((path: string) => string[]) | undefined
  const access = stateAccess({
    progress: numbers.progress,
    store,
    watch,
    retryAfterSeconds: settings.RETRY_AFTER_S,
    minPositionWaitMs: settings.MIN_POSITION_WAIT_MS,
  })
  const http = requestMetrics()
  const forward = writeForwarding({
    ownership: deps.ownership,
    partitions: () => store.origin?.partitions ?? 0,
    timeoutMs: settings.FORWARD_TIMEOUT_MS,
    retryAfterSeconds: settings.RETRY_AFTER_S,
    watch,
    reads: (partition) => store.positions().has(partition),
    writeWaitMs: settings.WRITE_WAIT_MS,
    fetch: deps.fetch,
  })
  // MODE=partitioned: a read may be the key owner's to answer; those reads stay Elysia's alone.
  const native: ReturnType<typeof nativeRead> | undefined =
    settings.MODE === 'replica'
      ? nativeRead({
          token: settings.SALDO_API_TOKEN,
          access,
          store,
          watch,
          count: http.count,
          // Asked for on the first request it hands over: the app is complete by then.
          elysiaRoute: () => routeHandler(app, 'GET', BALANCE_ROUTE),
        })
      : undefined
  const app = new Elysia(native ? { serve: { routes: { [BALANCE_ROUTE]: { GET: native } } } } : {})
    .onError(({ code, error: thrown, request, set }) => {
      // Elysia wraps what a parse hook throws in a ParseError; ours is its cause.
      const cause = (thrown as { cause?: unknown }).cause
      const error = code === 'PARSE' && cause instanceof ApiError ? cause : thrown
      if (error instanceof OwnerAnswer) {
        // Elysia gives an error's answer the status in `set` (500 here) when the answer says 200.
        set.status = error.response.status
        return error.response
      }
      if (error instanceof ApiError) return answerError(error, set)
      methodsOf ??= routeMethods(app.routes)
      const answer = frameworkError(code, error, request, methodsOf)
      if (answer.status >= 500)
        deps.log.error('request failed', { method: request.method, url: request.url, error })
      set.status = answer.status
      Object.assign(set.headers, answer.headers)
      return { error: answer.message }
    })
    .use(http.plugin)
    .use(openapiDocument())
    .use(healthRoutes(deps))
    .use(
      balanceRoutes({
        store,
        watch,
        access,
        apiToken: settings.SALDO_API_TOKEN,
        maxBodyBytes: settings.MAX_BODY_BYTES,
        partitioned:
          settings.MODE === 'partitioned'
            ? partitionedReads({
                ownership: deps.ownership,
                progress: numbers.progress,
                store,
                access,
                watch,
                timeoutMs: settings.READ_FORWARD_TIMEOUT_MS,
                retryAfterSeconds: settings.RETRY_AFTER_S,
                fetch: deps.fetch,
              })
            : undefined,
      }),
    )
    .use(
      writeRoutes({
        store,
        watch,
        access,
        outcomes: deps.outcomes,
        writer: deps.writer,
        forward,
        apiToken: settings.SALDO_API_TOKEN,
        writeWaitMs: settings.WRITE_WAIT_MS,
        maxBodyBytes: settings.MAX_BODY_BYTES,
        retryAfterSeconds: settings.RETRY_AFTER_S,
      }),
    )
    .use(
      movementRoutes({
        store,
        watch,
        index: deps.movements.index,
        indexWatch: deps.movements.watch,
        access,
        forward,
        writer: deps.movements.writer,
        topics: { balances: settings.TOPIC, movements: settings.MOVEMENTS_TOPIC },
        minSaldo: settings.MIN_SALDO,
        apiToken: settings.SALDO_API_TOKEN,
        writeWaitMs: settings.WRITE_WAIT_MS,
        maxBodyBytes: settings.MAX_BODY_BYTES,
        retryAfterSeconds: settings.RETRY_AFTER_S,
      }),
    )
    .use(
      metricsRoutes(
        deps,
        () => [...http.metrics(), ...forward.metrics()],
        settings.METRICS_PUBLIC ? undefined : settings.SALDO_API_TOKEN,
      ),
    )
    .use(eventRoutes(deps, settings.SALDO_API_TOKEN, settings.RETRY_AFTER_S))
    .use(docsRoutes())
    .use(dashboardRoutes())
  return app
}

export type App = ReturnType<typeof createApp>
