import type { ValidationError } from 'elysia'
import { HOW_TO_ENCODE } from './ids.ts'

export interface ErrorAnswer {
  status: number
  message: string
  headers?: Record<string, string>
}

/**
 * For each registered route pattern, which methods it answers; `/saldo/:cliente_id` matches one
 * segment, `/saldo/*` any rest.
 */
export function routeMethods(
  routes: ReadonlyArray<{ method: string; path: string }>,
): (path: string) => string[] {
  const patterns = routes.map((route) => ({
    method: route.method,
    regex: new RegExp(
      `^${route.path
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replace(/:[^/]+/g, '[^/]+')
        .replace(/\\\*$/, '.*')}$`,
    ),
  }))
  return (path) => [...new Set(patterns.filter((p) => p.regex.test(path)).map((p) => p.method))]
}

function validationMessage(error: ValidationError): string {
  const first = error.all[0]
  const where = first && 'path' in first && first.path ? first.path.slice(1) : error.type
  // A path segment that is not valid percent-encoded UTF-8 reaches the route as null (app.handle;
  // Bun's router hands the route the raw segment, which readId refuses in the same words).
  if (error.type === 'params' && first && 'value' in first && first.value === null) {
    return `${where} is not valid percent-encoded UTF-8; ${HOW_TO_ENCODE}`
  }
  // A schema may carry its own sentence saying what to send (an OpenAPI extension keyword, `x-error`).
  const own = first && 'schema' in first ? (first.schema as { 'x-error'?: unknown })['x-error'] : undefined
  if (typeof own === 'string') return own
  return `invalid ${error.type}: ${where ? `${where}: ` : ''}${first?.message ?? 'check the request'}`
}

const INTERNAL: ErrorAnswer = { status: 500, message: 'internal error; it was logged, please retry' }

/** Elysia's own failures (bad input, unknown route or method) as JSON errors with a hint to the fix. */
export function frameworkError(
  code: unknown,
  error: unknown,
  request: Request,
  methodsOf: (path: string) => string[],
): ErrorAnswer {
  switch (code) {
    case 'VALIDATION':
      // An answer that fails its own schema is our bug, not the client's.
      if ((error as ValidationError).type === 'response') {
        return INTERNAL
      }
      return { status: 400, message: validationMessage(error as ValidationError) }
    case 'PARSE':
      return {
        status: 400,
        message: 'the body could not be parsed; send valid JSON with Content-Type: application/json',
      }
    case 'NOT_FOUND': {
      const path = new URL(request.url).pathname
      const allowed = methodsOf(path)
      if (allowed.length > 0) {
        return {
          status: 405,
          message: `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}`,
          headers: { allow: allowed.join(', ') },
        }
      }
      return { status: 404, message: `no route ${request.method} ${path}; see /docs for the API` }
    }
    default:
      return INTERNAL
  }
}
