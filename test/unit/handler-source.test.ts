import { describe, expect, it } from 'bun:test'
import { setup, TOKEN } from './app-fixture.ts'

/**
 * Elysia compiles one handler per route from what its hooks and handler destructure (its "static
 * analysis"): a function that takes the whole context makes every request build everything. These
 * tests read the compiled source of every route, so that such a function cannot creep back in.
 */
function compiledRoutes(token: string | undefined) {
  const { app } = setup({ token })
  app.compile()
  return app.router.history.map((route) => ({
    key: `${route.method} ${route.path}`,
    source: String(route.compile()),
  }))
}

// The only routes that read request headers through Elysia: GET /events (its Last-Event-ID schema),
// the writes (PUT and DELETE with If-Match/If-None-Match, the movement POST with Idempotency-Key):
// a headers schema is how they reach /openapi.json, since a route with a path parameter loses the
// parameters of its `detail`, and one copy of the headers costs nothing next to a Kafka transaction.
const READS_HEADERS = [
  'GET /events',
  'PUT /saldo/:cliente_id',
  'DELETE /saldo/:cliente_id',
  'POST /saldo/:cliente_id/movimentos',
]

describe('the compiled handler of every route', () => {
  for (const token of [TOKEN, undefined]) {
    it(`builds per request only what the route uses (${token ? 'a token' : 'no token'} configured)`, () => {
      const routes = compiledRoutes(token)
      expect(routes.length).toBeGreaterThanOrEqual(15)
      for (const { key, source } of routes) {
        expect(source, `${key} parses cookies`).not.toContain('parseCookie')
        // onAfterResponse would schedule a task per request; the request metrics count synchronously.
        expect(source, `${key} schedules work after the answer`).not.toContain('setImmediate')
        if (READS_HEADERS.includes(key)) continue
        expect(source, `${key} copies the request headers`).not.toContain('headers.toJSON()')
        expect(source, `${key} defines the server getter`).not.toContain("'server'")
      }
    })
  }

  it('answers GET /saldo/:cliente_id synchronously, without validating the record again', () => {
    const route = compiledRoutes(TOKEN).find((r) => r.key === 'GET /saldo/:cliente_id')
    expect(route?.source).toStartWith('function handle(')
    expect(route?.source).not.toContain('validator.response')
    expect(route?.source).not.toContain('await handler')
  })

  it('builds no context property that no route reads in the request entry point', () => {
    const { app } = setup({ token: TOKEN })
    const entry = String(app.compile().fetch)
    expect(entry).not.toContain('get server()')
    expect(entry).not.toContain('headers.toJSON()')
  })
})
