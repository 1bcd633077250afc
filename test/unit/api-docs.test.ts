import { describe, expect, it } from 'bun:test'
import { Balance } from '../../src/balance.ts'
import { EVENT_SCHEMAS } from '../../src/events/models.ts'
import { IdsBody } from '../../src/http/models.ts'
import { redoclyLint } from '../openapi-tools.ts'
import { setup, TOKEN } from './app-fixture.ts'

interface Operation {
  summary?: string
  parameters?: Array<{ name: string; in: string; required?: boolean }>
  security?: Array<Record<string, string[]>>
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>
}
interface OpenApiDocument {
  openapi: string
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, unknown> }
}

/** Routes hidden from the document on purpose: the document itself and the paths that name no client (400). */
const UNDOCUMENTED = [
  'GET /openapi.json',
  ...['/saldo', '/saldo/*'].flatMap((path) => ['GET', 'PUT', 'DELETE'].map((method) => `${method} ${path}`)),
]

const asJson = (schema: unknown) => JSON.parse(JSON.stringify(schema))

describe('GET /openapi.json', () => {
  it('documents every route of the app, each status with a response schema', async () => {
    const { app, get } = setup()
    const res = await get('/openapi.json')
    expect(res.status).toBe(200)
    const doc = (await res.json()) as OpenApiDocument
    expect(doc.openapi).toStartWith('3.')

    const routes = app.routes.map((route) => {
      const hooks = route.hooks as { response?: Record<string, unknown>; detail?: { hide?: boolean } }
      return {
        key: `${route.method} ${route.path}`,
        path: route.path.replace(/:([^/]+)/g, '{$1}'),
        method: route.method.toLowerCase(),
        statuses: Object.keys(hooks.response ?? {}),
        hidden: hooks.detail?.hide === true,
      }
    })
    expect(routes.length).toBeGreaterThanOrEqual(8)
    expect(routes.filter((r) => r.hidden).map((r) => r.key)).toEqual(UNDOCUMENTED)
    for (const route of routes.filter((r) => !r.hidden)) {
      const operation = doc.paths[route.path]?.[route.method]
      expect(operation, `${route.key} is missing from /openapi.json`).toBeDefined()
      expect(operation?.summary, `${route.key} has no summary`).toBeTruthy()
      const responses = Object.entries(operation?.responses ?? {})
      expect(responses.length, `${route.key} documents no response`).toBeGreaterThan(0)
      for (const status of route.statuses) expect(operation?.responses).toHaveProperty(status)
      for (const [status, response] of responses) {
        const media = Object.values(response.content ?? {})
        expect(media.length, `${route.key} ${status} has no content`).toBeGreaterThan(0)
        for (const m of media) expect(m.schema, `${route.key} ${status} has no schema`).toBeDefined()
      }
    }
  })

  it('takes its schemas from the same TypeBox models as the routes', async () => {
    const doc = (await (await setup().get('/openapi.json')).json()) as OpenApiDocument
    const ok =
      doc.paths['/saldo/{cliente_id}']?.get?.responses?.['200']?.content?.['application/json']?.schema
    expect(ok).toEqual(asJson(Balance))
    expect(doc.paths['/events']?.get?.responses?.['200']?.content).toHaveProperty('text/event-stream')
    // The routes that parse their own body (token first, bounded size) still show its JSON schema.
    for (const [path, method, model] of [
      ['/saldos', 'post', IdsBody],
      ['/saldo/{cliente_id}', 'put', undefined],
    ] as const) {
      const body = (
        doc.paths[path]?.[method] as { requestBody?: { content: Record<string, { schema: unknown }> } }
      )?.requestBody?.content['application/json']?.schema
      expect(body, `${method} ${path} documents no JSON body`).toBeDefined()
      if (model) expect(body).toEqual(asJson(model))
    }
    for (const [name, schema] of Object.entries(EVENT_SCHEMAS)) {
      expect(doc.components.schemas[name]).toEqual(asJson(schema))
    }
  })
  it('documents the request headers a write reads: the conditions and the Idempotency-Key', async () => {
    const doc = (await (await setup().get('/openapi.json')).json()) as OpenApiDocument
    const headersOf = (path: string, method: string) =>
      (doc.paths[path]?.[method]?.parameters ?? [])
        .filter((p) => p.in === 'header')
        .map(({ name, required }) => ({ name, required }))
    const conditions = [
      { name: 'if-match', required: false },
      { name: 'if-none-match', required: false },
    ]
    expect(headersOf('/saldo/{cliente_id}', 'put')).toEqual(conditions)
    expect(headersOf('/saldo/{cliente_id}', 'delete')).toEqual(conditions)
    expect(headersOf('/saldo/{cliente_id}/movimentos', 'post')).toEqual([
      { name: 'idempotency-key', required: true },
    ])
  })
})

describe('GET /openapi.json, as tools read it', () => {
  for (const token of [TOKEN, undefined]) {
    it(`has no error under Redocly's recommended rules, only the warnings the README explains (${token ? 'a token' : 'no token'} configured)`, async () => {
      const problems = await redoclyLint(await (await setup({ token }).get('/openapi.json')).text())
      const errors = problems.filter((p) => p.severity === 'error')
      expect(errors.map((e) => `${e.ruleId} at ${e.location[0]?.pointer}: ${e.message}`)).toEqual([])
      expect([...new Set(problems.map((p) => p.ruleId))].sort()).toEqual([
        'info-license',
        'operation-4xx-response',
      ])
    }, 30_000)
  }

  for (const metricsPublic of [true, false]) {
    it(`names the bearer scheme on exactly the operations that answer 401 without the token (METRICS_PUBLIC=${metricsPublic})`, async () => {
      const { get, send } = setup({ token: TOKEN, metricsPublic })
      const doc = (await (await get('/openapi.json')).json()) as OpenApiDocument & {
        components: { securitySchemes: Record<string, unknown> }
      }
      expect(doc.components.securitySchemes).toEqual({
        bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      })
      for (const [path, operations] of Object.entries(doc.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          const res = await send(method.toUpperCase(), path.replace('{cliente_id}', '1'), undefined)
          const guarded = res.status === 401
          const what = `${method.toUpperCase()} ${path} (answered ${res.status})`
          expect(operation.security, `${what} says nothing of its security`).toBeDefined()
          expect(operation.security, what).toEqual(guarded ? [{ bearer: [] }] : [])
        }
      }
    })
  }
})

describe('GET /docs', () => {
  it('serves a page that needs nothing from the network', async () => {
    const res = await setup().get('/docs')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
    const html = await res.text()
    expect(html).toContain("fetch('openapi.json')")
    // No script, style, font or image from elsewhere: no absolute URL at all.
    expect(html).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i)
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i)
  })
})
