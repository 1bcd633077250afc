import { Elysia, type ValidationError } from 'elysia'
import type { Config } from '../config.ts'
import type { Logger } from '../log.ts'
import type { PositionWatch } from '../store/position-watch.ts'
import { ApiError } from './errors.ts'
import { balanceRoutes } from './routes/balances.ts'
import { type HealthRoutesDeps, healthRoutes } from './routes/health.ts'
import { type BalanceWrites, writeRoutes } from './routes/writes.ts'
import { stateAccess } from './state-access.ts'

export interface AppDeps extends HealthRoutesDeps {
  log: Logger
  watch: PositionWatch
  writer: BalanceWrites
  settings: Pick<
    Config,
    'SALDO_API_TOKEN' | 'RETRY_AFTER_S' | 'MIN_POSITION_WAIT_MS' | 'WRITE_WAIT_MS' | 'MAX_BODY_BYTES'
  >
}

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
  const { store, progress, watch, settings } = deps
  const access = stateAccess({
    progress,
    watch,
    retryAfterSeconds: settings.RETRY_AFTER_S,
    minPositionWaitMs: settings.MIN_POSITION_WAIT_MS,
  })
  return new Elysia()
    .onError(({ code, error: thrown, request, path, set }) => {
      // Elysia wraps what a parse hook throws in a ParseError; ours is its cause.
      const cause = (thrown as { cause?: unknown }).cause
      const error = code === 'PARSE' && cause instanceof ApiError ? cause : thrown
      if (error instanceof ApiError) {
        set.status = error.status
        Object.assign(set.headers, error.extra.headers)
        const { progress, position } = error.extra
        return { error: error.message, ...(progress ? { progress } : {}), ...(position ? { position } : {}) }
      }
      const [status, message] = frameworkError(code, error, request.method, path)
      if (status >= 500) deps.log.error('request failed', { method: request.method, path, error })
      set.status = status
      return { error: message }
    })
    .use(healthRoutes(deps))
    .use(balanceRoutes({ store, watch, access, apiToken: settings.SALDO_API_TOKEN }))
    .use(
      writeRoutes({
        store,
        watch,
        access,
        writer: deps.writer,
        apiToken: settings.SALDO_API_TOKEN,
        writeWaitMs: settings.WRITE_WAIT_MS,
        maxBodyBytes: settings.MAX_BODY_BYTES,
      }),
    )
}

export type App = ReturnType<typeof createApp>
