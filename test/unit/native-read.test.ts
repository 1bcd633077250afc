import { describe, expect, it } from 'bun:test'
import { nativeRead } from '../../src/http/native-read.ts'
import { BALANCE_ROUTE } from '../../src/http/routes/balances.ts'
import { onCleanup } from '../helpers.ts'
import { type SetupOptions, setup, TOKEN } from './app-fixture.ts'

const BEARER = { authorization: `Bearer ${TOKEN}` }
const balanceOf = (id: string) => ({ cliente_id: id, saldo: 1, timestamp: '2025-10-14T10:30:45' })

/** What an answer says: but Date and Content-Length, which Bun's HTTP layer adds on the wire only. */
async function seen(answer: Response) {
  const wire = new Set(['date', 'content-length'])
  const headers = Object.fromEntries(
    Object.entries(answer.headers.toJSON()).filter(([name]) => !wire.has(name)),
  )
  return { status: answer.status, headers, body: await answer.text() }
}

/** The fixture's app listening (Bun's router, so the native read), and the same app through app.handle. */
function listening(options: SetupOptions) {
  const fixture = setup(options)
  fixture.app.listen({ port: 0, hostname: '127.0.0.1' })
  onCleanup(() => fixture.app.stop(true))
  const base = `http://127.0.0.1:${fixture.app.server?.port}`
  const both = async (path: string, headers: Record<string, string>) => ({
    native: await seen(await fetch(`${base}${path}`, { headers })),
    elysia: await seen(await fixture.app.handle(new Request(`http://localhost${path}`, { headers }))),
  })
  return { ...fixture, base, both }
}

// Every kind of GET /saldo/:cliente_id the API answers: found, missing, encoded, with a position to
// wait for (query or header), a bad position, a bad id, a trailing slash, without or with a wrong token.
const REQUESTS: Array<[string, Record<string, string>]> = [
  ['/saldo/1', BEARER],
  ['/saldo/404', BEARER],
  ['/saldo/%C3%A9%2F%C3%BC', BEARER],
  ['/saldo/1/', BEARER],
  ['/saldo/1?min_position=0:1', BEARER],
  ['/saldo/1?min_position=0:99', BEARER],
  ['/saldo/1?min_position=zzz', BEARER],
  ['/saldo/1', { ...BEARER, 'x-saldo-min-position': '0:2' }],
  ['/saldo/%ff', BEARER],
  ['/saldo/1', {}],
  ['/saldo/1', { authorization: 'Bearer wrong-token-of-the-same-sz' }],
]

describe('GET /saldo/:cliente_id on Bun’s router (the native read)', () => {
  for (const [options, name] of [
    [{ token: TOKEN }, 'a token configured'],
    [{}, 'no token configured'],
    [{ token: TOKEN, ready: false }, 'the replay not done'],
  ] as Array<[SetupOptions, string]>) {
    it(`answers every request as Elysia’s route does (${name})`, async () => {
      const { both } = listening(options)
      const statuses = new Set<number>()
      for (const [path, headers] of REQUESTS) {
        const { native, elysia } = await both(path, headers)
        expect(native, `GET ${path} ${JSON.stringify(headers)}`).toEqual(elysia)
        statuses.add(native.status)
      }
      // The comparison covers answers of every kind, not one answer many times.
      expect(statuses.size).toBeGreaterThanOrEqual(options.ready === false ? 2 : 3)
    })
  }

  it('is the handler Bun’s router calls for the route, and counts its answers in the request metrics', async () => {
    const { app, base } = listening({ token: TOKEN })
    expect(app.config.serve?.routes?.[BALANCE_ROUTE]).toMatchObject({ GET: expect.any(Function) })
    for (let i = 0; i < 5; i++) await fetch(`${base}/saldo/1`, { headers: BEARER })
    for (let i = 0; i < 3; i++) await fetch(`${base}/saldo/404`, { headers: BEARER })
    const metrics = await (await fetch(`${base}/metrics`)).text()
    const series = (status: number) =>
      `saldo_http_requests_total{method="GET",route="/saldo/:cliente_id",status="${status}"}`
    expect(metrics).toContain(`${series(200)} 5`)
    expect(metrics).toContain(`${series(404)} 3`)
    expect(metrics).toContain(
      'saldo_http_request_duration_seconds_count{method="GET",route="/saldo/:cliente_id"} 8',
    )
  })

  it('is not Bun’s handler of the route in partitioned mode, whose reads may go to other instances', () => {
    const { app } = setup({ token: TOKEN, mode: 'partitioned' })
    expect(app.config.serve?.routes).toBeUndefined()
  })
})

describe('nativeRead', () => {
  const read = (ready = true) => {
    const counted: Array<[string, number]> = []
    const handedOver: string[] = []
    const answers = { text: '0:1', etags: 1 }
    const handler = nativeRead({
      token: TOKEN,
      access: {
        requireReady: () => {
          if (!ready) throw new Error('not ready')
        },
      },
      store: {
        answer: (id) =>
          id === '404' ? undefined : { balance: balanceOf(id), etag: `"0-${answers.etags++}"` },
      },
      watch: answers,
      count: (_method, route, code) => counted.push([route, code]),
      elysiaRoute: () => (request) => {
        handedOver.push(request.url)
        return new Response('elysia')
      },
    })
    const get = (path: string, headers: Record<string, string> = BEARER) =>
      handler(new Request(`http://localhost${path}`, { headers })) as Response
    return { handler, get, counted, handedOver, answers }
  }

  it('answers the usual read itself, decoded once, and counts it', async () => {
    const { get, counted, handedOver } = read()
    expect(await get('/saldo/1').json()).toEqual(balanceOf('1'))
    expect(await get('/saldo/%C3%A9').json()).toEqual(balanceOf('é'))
    const missing = get('/saldo/404')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({ error: 'cliente não encontrado' })
    expect(counted).toEqual([
      [BALANCE_ROUTE, 200],
      [BALANCE_ROUTE, 200],
      [BALANCE_ROUTE, 404],
    ])
    expect(handedOver).toEqual([])
  })

  it('gives each answer its own ETag and position, though their headers are built from shared ones', () => {
    const { get, answers } = read()
    const first = get('/saldo/1')
    const missing = get('/saldo/404')
    answers.text = '0:2'
    const second = get('/saldo/2')
    const missingLater = get('/saldo/404')
    const headersOf = (answer: Response) => ({
      etag: answer.headers.get('etag'),
      position: answer.headers.get('x-saldo-position'),
      type: answer.headers.get('content-type'),
    })
    expect([first, missing, second, missingLater].map(headersOf)).toEqual([
      { etag: '"0-1"', position: '0:1', type: 'application/json' },
      { etag: null, position: '0:1', type: 'application/json' },
      { etag: '"0-2"', position: '0:2', type: 'application/json' },
      { etag: null, position: '0:2', type: 'application/json' },
    ])
  })

  it('hands Elysia every other request, uncounted (Elysia counts it)', async () => {
    const { handler, get, counted, handedOver } = read()
    const others = [
      get('/saldo/1?min_position=0:1'),
      get('/saldo/1', { ...BEARER, 'x-saldo-min-position': '0:1' }),
      get('/saldo/1', {}),
      get('/saldo/1', { authorization: 'Bearer nope' }),
      get('/saldo/%ff'),
      get('/saldo/'),
      get('/saldo/1', { ...BEARER, 'x-saldo-min-position': '' }),
      handler(new Request('http://localhost/saldo/1', { method: 'HEAD', headers: BEARER })) as Response,
    ]
    for (const answer of others) expect(await answer.text()).toBe('elysia')
    expect(handedOver).toHaveLength(others.length)
    expect(counted).toEqual([])
    const notReady = read(false)
    expect(await notReady.get('/saldo/1').text()).toBe('elysia')
  })
})
