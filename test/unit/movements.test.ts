import { describe, expect, it } from 'bun:test'
import { loadConfig } from '../../src/config.ts'
import { seed, setup, TOKEN } from './app-fixture.ts'
import { StaticOwnership } from './static-ownership.ts'

const { MOVEMENTS_TOPIC, TOPIC } = loadConfig({})
const json = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
// The fixture's store holds client 1 (saldo 150) and client é/ü (saldo -2.5) at partition 0; 2 does not exist.

function fixture(options: Parameters<typeof setup>[0] = {}) {
  const app = setup({ token: TOKEN, ...options })
  /** null: no Idempotency-Key header. */
  const move = (id: string, body: unknown, key: string | null = crypto.randomUUID()) =>
    app.send('POST', `/saldo/${id}/movimentos`, typeof body === 'string' ? body : JSON.stringify(body), {
      ...json,
      ...(key === null ? {} : { 'idempotency-key': key }),
    })
  const read = (path: string) => app.get(path, { authorization: `Bearer ${TOKEN}` })
  const list = (id: string, query = '') =>
    app.get(`/saldo/${id}/movimentos${query}`, { authorization: `Bearer ${TOKEN}` })
  /** How many transactions were committed, and what each topic holds. */
  const written = () => ({
    appends: app.transactions.appends,
    balances: app.transactions.committed.filter((r) => r.topic === TOPIC).length,
    movements: app.transactions.committed.filter((r) => r.topic === MOVEMENTS_TOPIC).length,
  })
  return { ...app, move, list, read, written }
}

describe('POST /saldo/:cliente_id/movimentos', () => {
  it('credits a balance in one transaction and answers the movement, the new balance, its ETag and position', async () => {
    const { move, read, written } = fixture()
    const res = await move('1', { valor: 10.5, descricao: 'pix' }, 'k-1')
    expect(res.status).toBe(201)
    const answer = await res.json()
    expect(answer).toEqual({
      movimento: {
        cliente_id: '1',
        valor: 10.5,
        saldo_anterior: 150,
        saldo: 160.5,
        descricao: 'pix',
        idempotency_key: 'k-1',
        timestamp: expect.any(String),
      },
      saldo: { cliente_id: '1', saldo: 160.5, timestamp: answer.movimento.timestamp },
    })
    expect(written()).toEqual({ appends: 1, balances: 1, movements: 1 })
    // The balance record took offset 2 (the fixture's log held 0 and 1); its commit marker took 3.
    expect(res.headers.get('etag')).toBe('"0-2"')
    expect(res.headers.get('x-saldo-position')).toBe('0:4')
    expect(res.headers.get('idempotent-replayed')).toBeNull()
    // Read-your-writes: applied here before the answer.
    const after = await read('/saldo/1')
    expect(await after.json()).toEqual(answer.saldo)
    expect(after.headers.get('etag')).toBe('"0-2"')
  })

  it('creates a client with a credit (saldo_anterior null); a debit of an unknown client is a 404', async () => {
    const { move, written } = fixture()
    const debit = await move('2', { valor: -1 })
    expect(debit.status).toBe(404)
    expect(await debit.json()).toEqual({ error: 'cliente não encontrado' })
    expect(written().appends).toBe(0)
    const credit = await move('2', { valor: 5 })
    expect(credit.status).toBe(201)
    expect((await credit.json()).movimento).toMatchObject({ saldo_anterior: null, saldo: 5 })
  })

  it('refuses a debit below MIN_SALDO with 422 and the current balance, writing nothing', async () => {
    const { move, written } = fixture({ minSaldo: -50 })
    const res = await move('1', { valor: -200.01 })
    expect(res.status).toBe(422)
    const answer = await res.json()
    expect(answer.saldo).toEqual(seed)
    expect(answer.error).toBe(
      'the debit would leave a balance of -50.01, below the floor of -50 (MIN_SALDO); nothing was written',
    )
    expect(written().appends).toBe(0)
    expect((await move('1', { valor: -200 })).status).toBe(201)
  })

  it('answers a retry with the same key and body exactly as the first attempt, applying it once', async () => {
    const { move, read, written } = fixture()
    const first = await move('1', { valor: -20, descricao: 'boleto' }, 'same')
    const text = await first.text()
    const again = await move('1', { valor: -20, descricao: 'boleto' }, '"same"')
    expect(again.status).toBe(201)
    expect(await again.text()).toBe(text)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    // The balance it wrote is still the current one: same ETag.
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'))
    expect(written().appends).toBe(1)
    expect(await (await read('/saldo/1')).json()).toMatchObject({ saldo: 130 })
    // Keys are per client: the same key on another client is another movement.
    expect((await move('é%2Fü', { valor: -20 }, 'same')).status).toBe(422)
  })

  it('answers 409 when a key comes back with another body, and applies nothing', async () => {
    const { move, written } = fixture()
    expect((await move('1', { valor: 5 }, 'k')).status).toBe(201)
    for (const other of [{ valor: 6 }, { valor: 5, descricao: 'x' }]) {
      const res = await move('1', other, 'k')
      expect(res.status).toBe(409)
      expect((await res.json()).error).toContain('Idempotency-Key "k" was used for another movement')
    }
    expect(written().appends).toBe(1)
  })

  it('applies concurrent requests with one key once, and every one of them answers the same', async () => {
    const { move, written } = fixture()
    const answers = await Promise.all(Array.from({ length: 8 }, () => move('1', { valor: 1 }, 'twice')))
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(201))
    const bodies = new Set(await Promise.all(answers.map((r) => r.text())))
    expect(bodies.size).toBe(1)
    expect(written()).toEqual({ appends: 1, balances: 1, movements: 1 })
    // While the first runs, a concurrent one with the same key and another body is a 409.
    const [ok, clash] = await Promise.all([move('1', { valor: 2 }, 'k2'), move('1', { valor: 3 }, 'k2')])
    expect([ok.status, clash.status]).toEqual([201, 409])
  })

  it('computes concurrent movements one after another, never two from the same balance', async () => {
    // 200 in one partition's line: a budget for all of them to get their turn.
    const { move, read, list } = fixture({ writeWaitMs: 10_000 })
    // 150 of saldo, 200 debits of 1: 150 apply and 50 are refused at the floor.
    const answers = await Promise.all(Array.from({ length: 200 }, () => move('1', { valor: -1 })))
    const statuses = answers.map((r) => r.status)
    expect(statuses.filter((s) => s === 201).length).toBe(150)
    expect(statuses.filter((s) => s === 422).length).toBe(50)
    expect(await (await read('/saldo/1')).json()).toMatchObject({ saldo: 0 })
    const { movimentos } = await (await list('1', '?limit=100')).json()
    const before = movimentos.map((m: { saldo_anterior: number }) => m.saldo_anterior)
    expect(new Set(before).size).toBe(100)
    expect(before.slice(0, 3)).toEqual([1, 2, 3])
  })

  it('decides a refused movement again on its retry', async () => {
    const { move } = fixture()
    expect((await move('1', { valor: -200 }, 'big')).status).toBe(422)
    expect((await move('1', { valor: 100 })).status).toBe(201)
    const retry = await move('1', { valor: -200 }, 'big')
    expect(retry.status).toBe(201)
    expect((await retry.json()).saldo.saldo).toBe(50)
  })

  it('answers 503 when the transaction failed, and its retry with the same key applies once', async () => {
    const { move, transactions, written } = fixture()
    transactions.failNext = new Error('the broker fenced this writer')
    const failed = await move('1', { valor: 7 }, 'flaky')
    expect(failed.status).toBe(503)
    expect((await failed.json()).error).toBe(
      'Kafka did not confirm the write (the broker fenced this writer); it may not have been made: retry',
    )
    expect((await move('1', { valor: 7 }, 'flaky')).status).toBe(201)
    expect((await move('1', { valor: 7 }, 'flaky')).status).toBe(201)
    expect(written()).toEqual({ appends: 2, balances: 1, movements: 1 })
  })

  it('does not apply again a movement whose transaction committed but answered an error', async () => {
    const { move, transactions, written } = fixture()
    // Committed, but the answer is lost, and the readers have not seen it yet when the retry comes.
    transactions.holdReaders()
    transactions.loseNextAnswer = new Error('the request timed out')
    expect((await move('1', { valor: 7 }, 'lost')).status).toBe(503)
    // The retry reads the partition's end offsets first; the readers get the records only then.
    transactions.onEndOffsets = () => transactions.releaseReaders()
    const answer = await move('1', { valor: 7 }, 'lost')
    expect(answer.status).toBe(201)
    expect(answer.headers.get('idempotent-replayed')).toBe('true')
    expect(written()).toEqual({ appends: 1, balances: 1, movements: 1 })
  })

  it('decides from the end of the partition once told it was written elsewhere (a takeover)', async () => {
    const { move, transactions, conditional } = fixture()
    // Another owner's last write, committed but not read here yet.
    transactions.holdReaders()
    const balance = { cliente_id: '1', saldo: 999, timestamp: '2026-12-02T10:00:00' }
    await transactions.append(0, [{ topic: TOPIC, message: { key: '1', value: JSON.stringify(balance) } }])
    conditional.readFirst(0)
    transactions.onEndOffsets = () => transactions.releaseReaders()
    const res = await move('1', { valor: 1 })
    expect((await res.json()).movimento).toMatchObject({ saldo_anterior: 999, saldo: 1000 })
  })

  const refused: Array<[string, string, unknown, string | null, number, string]> = [
    ['no Idempotency-Key', '1', { valor: 1 }, null, 400, 'Idempotency-Key is missing'],
    ['an empty Idempotency-Key', '1', { valor: 1 }, '', 400, 'Idempotency-Key "" is malformed'],
    ['an Idempotency-Key with a space', '1', { valor: 1 }, 'a b', 400, 'is malformed'],
    ['an Idempotency-Key of 129 characters', '1', { valor: 1 }, 'k'.repeat(129), 400, 'is malformed'],
    ['an Idempotency-Key of two quotes', '1', { valor: 1 }, '""', 400, 'is malformed'],
    ['valor 0', '1', { valor: 0 }, 'k', 400, 'valor is 0'],
    ['valor with sub-cents', '1', { valor: 1.005 }, 'k', 400, 'more than 2 decimal places'],
    ['valor past the maximum', '1', { valor: 1e14 }, 'k', 400, 'valor'],
    ['valor as a string', '1', { valor: '10' }, 'k', 400, 'valor'],
    ['no valor', '1', { descricao: 'x' }, 'k', 400, 'valor'],
    ['a descricao of 201 characters', '1', { valor: 1, descricao: 'd'.repeat(201) }, 'k', 400, 'descricao'],
    ['a body that is not JSON', '1', '{"valor":', 'k', 400, 'not valid JSON'],
    // Only GET, PUT and DELETE have a route for paths that name no single client.
    ['a raw / in the id', 'a/b', { valor: 1 }, 'k', 405, ''],
  ]
  for (const [name, id, body, key, status, error] of refused) {
    it(`answers ${status} to ${name}, writing nothing`, async () => {
      const { move, written } = fixture()
      const res = await move(id, body, key)
      expect(res.status).toBe(status)
      expect((await res.json()).error).toContain(error)
      expect(written().appends).toBe(0)
    })
  }

  it('needs the token, and a configured one (writes are off without)', async () => {
    const { send } = fixture()
    const res = await send('POST', '/saldo/1/movimentos', '{"valor":1}', {
      'content-type': 'application/json',
      'idempotency-key': 'k',
    })
    expect(res.status).toBe(401)
    const off = setup()
    const disabled = await off.send('POST', '/saldo/1/movimentos', '{"valor":1}', {
      ...json,
      'idempotency-key': 'k',
    })
    expect(disabled.status).toBe(403)
  })

  it('answers 503 with Retry-After during the replay', async () => {
    const { move } = fixture({ ready: false })
    const res = await move('1', { valor: 1 })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('3')
  })

  it('is not served without a transactional writer', async () => {
    const { move } = fixture({ movements: false })
    const res = await move('1', { valor: 1 })
    expect(res.status).toBe(405)
  })
})

describe('a movement of a partition another instance owns', () => {
  it('is decided by the owner, with its Idempotency-Key, and answered as the owner answered', async () => {
    const [A, B] = ['http://a.test:5000', 'http://b.test:5000']
    const b = fixture({ ownership: new StaticOwnership(B, { 0: B }) })
    const sent: Request[] = []
    // One log: A reads what B commits, as both would read the topics.
    const a = fixture({
      ownership: new StaticOwnership(A, { 0: B }),
      transactions: b.transactions,
      fetch: (url, init) => {
        sent.push(new Request(url, init))
        return b.app.handle(new Request(url, init))
      },
    })
    const first = await a.move('1', { valor: -5 }, 'via-a')
    expect(first.status).toBe(201)
    const text = await first.text()
    expect(JSON.parse(text).movimento).toMatchObject({ saldo_anterior: 150, saldo: 145 })
    expect(sent[0]?.headers.get('idempotency-key')).toBe('via-a')
    // The retry through A, then one straight to B: the owner's answer each time, applied once.
    expect(await (await a.move('1', { valor: -5 }, 'via-a')).text()).toBe(text)
    expect(await (await b.move('1', { valor: -5 }, 'via-a')).text()).toBe(text)
    expect(b.written()).toEqual({ appends: 1, balances: 1, movements: 1 })
    // Read-your-writes through A: it answered once it had applied the owner's write.
    expect(a.store.get('1')?.saldo).toBe(145)
  })
})

describe('GET /saldo/:cliente_id/movimentos', () => {
  it('lists the movements newest first, limit honoured', async () => {
    const { move, list } = fixture()
    for (const valor of [1, 2, 3, 4]) await move('1', { valor })
    const res = await list('1', '?limit=3')
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body.cliente_id).toBe('1')
    expect(body.movimentos.map((m: { valor: number }) => m.valor)).toEqual([4, 3, 2])
    expect((await (await list('1')).json()).movimentos).toHaveLength(4)
  })

  it('answers an empty list for a client with a balance and no movement, 404 for neither', async () => {
    const { list } = fixture()
    expect(await (await list('1')).json()).toEqual({ cliente_id: '1', movimentos: [] })
    const missing = await list('2')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({ error: 'cliente não encontrado' })
  })

  for (const query of ['?limit=0', '?limit=101', '?limit=abc', '?limit=1.5']) {
    it(`answers 400 to ${query}`, async () => {
      const { list } = fixture()
      expect((await list('1', query)).status).toBe(400)
    })
  }

  it('is in /openapi.json with the Idempotency-Key of POST', async () => {
    const { get } = fixture()
    const doc = await (await get('/openapi.json')).json()
    const path = doc.paths['/saldo/{cliente_id}/movimentos']
    expect(Object.keys(path).sort()).toEqual(['get', 'post'])
    expect(path.post.parameters).toContainEqual(
      expect.objectContaining({ name: 'idempotency-key', in: 'header', required: true }),
    )
    expect(Object.keys(path.post.responses)).toEqual(
      expect.arrayContaining(['201', '400', '404', '409', '422', '503']),
    )
  })
})
