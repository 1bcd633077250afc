import { describe, expect, it } from 'bun:test'
import { seed, setup } from './app-fixture.ts'

/**
 * One decoding rule for every place an id enters. Each row: the id as a URL carries it (path segment
 * or one element of an `ids` list), the same id as a JSON string (POST /saldos), and the id it names
 * or the 400 it gets.
 */
const TABLE: Array<{ url: string; json: string; id?: string; error?: string }> = [
  { url: '1', json: '1', id: '1' },
  { url: '%C3%A9%2F%C3%BC', json: 'é/ü', id: 'é/ü' },
  { url: 'a%2Cb', json: 'a,b', id: 'a,b' },
  { url: 'a%5Cb', json: 'a\\b', id: 'a\\b' },
  { url: 'a+b', json: 'a+b', id: 'a+b' },
  { url: '%31', json: '1', id: '1' },
  { url: '%ff', json: '\uFFFD', error: 'not valid percent-encoded UTF-8' },
  { url: '%C3', json: '\uFFFD', error: 'not valid percent-encoded UTF-8' },
  { url: 'a%00b', json: 'a\u0000b', error: 'control characters' },
  { url: 'a%7Fb', json: 'a\u007fb', error: 'control characters' },
  { url: 'a%C2%80b', json: 'a\u0080b', error: 'control characters' },
  { url: 'a%C2%9Fb', json: 'a\u009fb', error: 'control characters' },
  { url: 'x'.repeat(129), json: 'x'.repeat(129), error: '128 bytes' },
  { url: '%C3%A9'.repeat(65), json: 'é'.repeat(65), error: '128 bytes' },
]

/** The fixture's store, plus every valid id of the table, so that each read shows which id it named. */
function seeded() {
  const app = setup()
  const ids = TABLE.flatMap((row) => (row.id ? [row.id] : []))
  app.store.apply(
    1,
    ids.map((id) => ({ kind: 'put' as const, balance: { ...seed, cliente_id: id } })),
    ids.length,
    ids.map((_, i) => i),
  )
  return app
}

const ENTRIES = {
  path: (app: ReturnType<typeof setup>, row: (typeof TABLE)[number]) => app.get(`/saldo/${row.url}`),
  'GET /saldos ids': (app: ReturnType<typeof setup>, row: (typeof TABLE)[number]) =>
    app.get(`/saldos?ids=${row.url}`),
  'POST /saldos body': (app: ReturnType<typeof setup>, row: (typeof TABLE)[number]) =>
    app.send('POST', '/saldos', JSON.stringify({ ids: [row.json] }), { 'content-type': 'application/json' }),
  '/events ids': (app: ReturnType<typeof setup>, row: (typeof TABLE)[number]) =>
    app.get(`/events?ids=${row.url}`),
}

/** The one id an answer names: the balance of /saldo, the balances of /saldos. */
async function namedId(entry: string, res: Response): Promise<string | undefined> {
  if (entry === '/events ids') {
    await res.body?.cancel()
    return undefined
  }
  const body = await res.json()
  return entry === 'path'
    ? body.cliente_id
    : body.balances.map((b: { cliente_id: string }) => b.cliente_id)[0]
}

describe('the one id decoding rule', () => {
  for (const [entry, request] of Object.entries(ENTRIES)) {
    for (const row of TABLE) {
      // A JSON string is not percent-decoded: the URL's decoding errors have no JSON twin.
      if (entry === 'POST /saldos body' && row.json === '\uFFFD') continue
      const expected = row.id === undefined ? `400 (${row.error})` : JSON.stringify(row.id)
      it(`${entry}: ${row.url.slice(0, 24)} → ${expected}`, async () => {
        const res = await request(seeded(), row)
        if (row.error) {
          expect(res.status).toBe(400)
          expect((await res.json()).error).toContain(row.error)
          return
        }
        expect(res.status).toBe(200)
        const id = await namedId(entry, res)
        if (entry !== '/events ids') expect(id).toBe(row.id as string)
      })
    }
  }

  it('splits an ids list on literal commas only, and names each id once', async () => {
    const res = await seeded().get('/saldos?ids=a%2Cb,1,%31,404')
    expect(await res.json()).toMatchObject({
      balances: [{ cliente_id: 'a,b' }, { cliente_id: '1' }],
      missing: ['404'],
    })
  })
})

describe('ids the URL layer rewrites', () => {
  it('refuses a raw slash inside the id (a raw backslash arrives as one), saying to percent-encode', async () => {
    const { get, send } = seeded()
    for (const res of [
      await get('/saldo/a/b'),
      await send('PUT', '/saldo/a/b', '{"saldo":1}', { 'content-type': 'application/json' }),
      await send('DELETE', '/saldo/a/b', undefined),
    ]) {
      expect(res.status).toBe(400)
      expect((await res.json()).error).toContain('%2F')
    }
  })

  it('answers /saldo and /saldo/ 400 with one sentence on every method, saying how to read . and ..', async () => {
    const { send } = seeded()
    const messages = new Set<string>()
    for (const method of ['GET', 'PUT', 'DELETE']) {
      for (const path of ['/saldo', '/saldo/', '/saldo/%2E', '/saldo/.']) {
        const res = await send(method, path, undefined)
        expect(res.status).toBe(400)
        messages.add((await res.json()).error)
      }
    }
    expect([...messages]).toHaveLength(1)
    expect([...messages][0]).toContain('/saldos?ids=.')
    expect([...messages][0]).toContain('POST /saldos')
  })

  it('serves the ids . and .. through /saldos and POST /saldos', async () => {
    const { store, get, send } = seeded()
    store.apply(
      2,
      ['.', '..'].map((id) => ({ kind: 'put' as const, balance: { ...seed, cliente_id: id } })),
      2,
      [0, 1],
    )
    const listed = await (await get('/saldos?ids=.,..')).json()
    expect(listed.balances.map((b: { cliente_id: string }) => b.cliente_id)).toEqual(['.', '..'])
    const posted = await send('POST', '/saldos', '{"ids":[".",".."]}', { 'content-type': 'application/json' })
    expect((await posted.json()).balances).toHaveLength(2)
  })
})
