import { describe, expect, it } from 'bun:test'
import { loadConfig } from '../../src/config.ts'
import { metricValues, waitFor } from '../helpers.ts'
import { MemoryTransactions } from '../memory-transactions.ts'
import { seed, setup, TOKEN } from './app-fixture.ts'
import { StaticOwnership } from './static-ownership.ts'

// Two instances under app.handle: A forwards to B through an injected fetch, no network. The
// fixture's topic has one partition, 0, so every client is on it.
const A = 'http://a.test:5000'
const B = 'http://b.test:5000'
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }

/**
 * The topic both instances read, in memory: a write through either commits to one log that both
 * apply, as their materializers would. `writers` says which instance's owner appended each record;
 * `hold()` keeps what commits from the readers until `release()`.
 */
function sharedTopic() {
  const log = new MemoryTransactions().startAt(loadConfig({}).TOPIC, 0, 2)
  const writers: string[] = []
  return {
    log,
    writer: (name: string) => () => writers.push(name),
    writers,
    hold: () => log.holdReaders(),
    release: () => log.releaseReaders(),
  }
}

/** B owns partition 0; A knows it. `reach` is how A's requests get to B (default: B's app). */
function twoInstances(reach?: (url: string, init: RequestInit) => Promise<Response>) {
  const topic = sharedTopic()
  const b = setup({
    token: TOKEN,
    ownership: new StaticOwnership(B, { 0: B }),
    transactions: topic.log,
    onAppend: topic.writer('b'),
  })
  const sent: Request[] = []
  const a = setup({
    token: TOKEN,
    ownership: new StaticOwnership(A, { 0: B }),
    transactions: topic.log,
    onAppend: topic.writer('a'),
    fetch: (url, init) => {
      const request = new Request(url, init)
      sent.push(request.clone())
      return reach ? reach(url, init) : b.app.handle(request)
    },
  })
  return { a, b, sent, topic }
}

describe('a write for a partition another instance owns', () => {
  it('is sent to the owner with its method, path, query, body and conditions, and answered as the owner answered', async () => {
    const { a, sent, topic } = twoInstances()
    const res = await a.send('PUT', '/saldo/1?x=1', '{"saldo": 7, "timestamp": "2025-10-14T11:00:00"}', {
      ...auth,
      'if-match': '"0-0"',
    })
    const body = await res.json()
    expect({ status: res.status, body }).toEqual({
      status: 200,
      body: { balance: { ...seed, saldo: 7, timestamp: '2025-10-14T11:00:00' }, position: '0:3' },
    })
    expect(res.headers.get('etag')).toBe('"0-2"')
    // Where this instance is: past the transaction's commit marker, as a reader of Kafka is.
    expect(res.headers.get('x-saldo-position')).toBe('0:4')
    // The owner wrote it, and A answered once it had applied it too (read-your-writes through A).
    expect(topic.writers).toEqual(['b'])
    expect(a.store.get('1')?.saldo).toBe(7)
    const [forwarded] = sent
    expect(sent).toHaveLength(1)
    expect(forwarded?.method).toBe('PUT')
    expect(forwarded?.url).toBe(`${B}/saldo/1?x=1`)
    expect(forwarded?.headers.toJSON()).toMatchObject({
      authorization: auth.authorization,
      'content-type': 'application/json',
      'if-match': '"0-0"',
      'x-saldo-forwarded-by': A,
    })
    expect(await forwarded?.json()).toEqual({ saldo: 7, timestamp: '2025-10-14T11:00:00' })
  })

  it("returns the owner's refusals as they are: a 412 with the current balance and its ETag", async () => {
    const { a } = twoInstances()
    const res = await a.send('PUT', '/saldo/1', '{"saldo": 7}', { ...auth, 'if-match': '"0-9"' })
    expect(res.status).toBe(412)
    expect(res.headers.get('etag')).toBe('"0-0"')
    expect((await res.json()).saldo).toEqual(seed)
  })

  it('forwards a DELETE with its min_position, and answers what the owner did', async () => {
    const { a, sent, topic } = twoInstances()
    const res = await a.send('DELETE', '/saldo/1?min_position=0:2', undefined, {
      authorization: auth.authorization,
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ deleted: '1', position: '0:3' })
    expect(sent[0]?.url).toBe(`${B}/saldo/1?min_position=0:2`)
    expect(topic.writers).toEqual(['b'])
    expect(a.store.get('1')).toBeUndefined()
  })

  it('is checked here first: without the token it is refused, not forwarded', async () => {
    const { a, sent } = twoInstances()
    const res = await a.send('PUT', '/saldo/1', '{"saldo": 7}', { 'content-type': 'application/json' })
    expect(res.status).toBe(401)
    expect(sent).toHaveLength(0)
  })

  it('is written here, not forwarded, when this instance owns the partition', async () => {
    const { b, sent, topic } = twoInstances()
    const res = await b.send('PUT', '/saldo/1', '{"saldo": 3}', auth)
    expect(res.status).toBe(200)
    expect(topic.writers).toEqual(['b'])
    expect(sent).toHaveLength(0)
  })

  it("answers only once this instance has applied the owner's write too", async () => {
    const { a, topic } = twoInstances()
    topic.hold()
    const answer = a.send('PUT', '/saldo/1', '{"saldo": 9}', auth)
    const seenWhenAnswered = answer.then(() => a.store.get('1')?.saldo)
    await waitFor(() => topic.writers.length === 1, { what: 'the owner to write' })
    topic.release()
    expect((await answer).status).toBe(200)
    expect(await seenWhenAnswered).toBe(9)
  })

  it('answers 503 at the hop limit: a forwarded write reaching a non-owner is not sent on', async () => {
    const { a, sent } = twoInstances()
    const res = await a.send('PUT', '/saldo/1', '{"saldo": 7}', {
      ...auth,
      'x-saldo-forwarded-by': 'http://c.test:5000',
    })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('3')
    expect((await res.json()).error).toBe(
      `ownership of partition 0 is moving: http://c.test:5000 sent this write here, but this instance does not own it (now: ${B}); retry after the Retry-After seconds`,
    )
    expect(sent).toHaveLength(0)
  })

  it('waits for a rebalance in progress, and goes to the owner it ends with', async () => {
    const { a, topic } = twoInstances()
    a.ownership.set(undefined)
    const answer = a.send('PUT', '/saldo/1', '{"saldo": 8}', auth)
    a.ownership.set({ 0: B })
    expect((await answer).status).toBe(200)
    expect(topic.writers).toEqual(['b'])
  })

  it('answers 503 when no owner is known within FORWARD_TIMEOUT_MS', async () => {
    const { a, sent } = twoInstances()
    a.ownership.set(undefined)
    const res = await a.send('PUT', '/saldo/1', '{"saldo": 8}', auth)
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('3')
    expect((await res.json()).error).toBe(
      'ownership of partition 0 is moving: no owner known within 200 ms (the instances are rebalancing); retry after the Retry-After seconds',
    )
    expect(sent).toHaveLength(0)
  })

  it('answers 503 when the owner cannot be reached, or does not answer in time, saying the write may be made', async () => {
    const refused = twoInstances(() =>
      Promise.reject(new TypeError('Unable to connect. Is the computer able to access the url?')),
    )
    const res = await refused.a.send('PUT', '/saldo/1', '{"saldo": 8}', auth)
    expect(res.status).toBe(503)
    expect((await res.json()).error).toBe(
      `the owner of partition 0 (${B}) did not answer within 200 ms (Unable to connect. Is the computer able to access the url?); the write may or may not be made: retry after the Retry-After seconds`,
    )
    const silent = twoInstances(
      (_url, init) =>
        new Promise((_, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason))),
    )
    const late = await silent.a.send('DELETE', '/saldo/1', undefined, { authorization: auth.authorization })
    expect(late.status).toBe(503)
    expect((await late.json()).error).toContain(
      `the owner of partition 0 (${B}) did not answer within 200 ms`,
    )
  })

  it('counts each outcome in /metrics', async () => {
    const { a } = twoInstances()
    await a.send('PUT', '/saldo/1', '{"saldo": 7}', auth)
    await a.send('PUT', '/saldo/1', '{"saldo": 7}', { ...auth, 'x-saldo-forwarded-by': B })
    const values = metricValues(await (await a.get('/metrics')).text())
    expect(values).toMatchObject({
      'saldo_forwarded_requests_total{outcome="forwarded"}': 1,
      'saldo_forwarded_requests_total{outcome="hop_limit"}': 1,
      'saldo_forwarded_requests_total{outcome="owner_unknown"}': 0,
      'saldo_forwarded_requests_total{outcome="owner_unreachable"}': 0,
    })
  })
})
