import { describe, expect, it } from 'bun:test'
import { loadConfig } from '../../src/config.ts'
import { seed, setup, TOKEN } from './app-fixture.ts'

const { TOPIC } = loadConfig({})

const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
// The fixture's store holds client 1 at partition 0, offset 0; client 2 does not exist.
const CURRENT = '"0-0"'

/**
 * With Kafka down (kafkaDown), a write whose condition holds goes on to Kafka and answers 503 (Kafka
 * did not confirm it); one whose condition fails answers 412 before anything is written.
 */
const WRITTEN = 503

describe('GET /saldo/:cliente_id', () => {
  it('answers the ETag of the record that set the balance: "partition-offset"', async () => {
    const { get } = setup()
    const res = await get('/saldo/é%2Fü')
    expect(res.headers.get('etag')).toBe('"0-1"')
    expect((await get('/saldo/1')).headers.get('etag')).toBe(CURRENT)
    expect((await get('/saldo/2')).headers.get('etag')).toBeNull()
  })
})

describe('conditional PUT and DELETE', () => {
  const matrix: Array<[string, string, Record<string, string>, number]> = [
    ['If-Match with the current ETag', '1', { 'if-match': CURRENT }, WRITTEN],
    ['If-Match with one of several ETags', '1', { 'if-match': `"0-7", ${CURRENT}` }, WRITTEN],
    ['If-Match with another ETag', '1', { 'if-match': '"0-7"' }, 412],
    ['If-Match with the current ETag made weak', '1', { 'if-match': `W/${CURRENT}` }, 412],
    ['If-Match * on a client that exists', '1', { 'if-match': '*' }, WRITTEN],
    ['If-Match * on a client that does not exist', '2', { 'if-match': '*' }, 412],
    ['If-Match with an ETag on a client that does not exist', '2', { 'if-match': CURRENT }, 412],
    ['If-None-Match * on a client that exists', '1', { 'if-none-match': '*' }, 412],
    ['If-None-Match * on a client that does not exist', '2', { 'if-none-match': '*' }, WRITTEN],
    ['If-None-Match with the current ETag', '1', { 'if-none-match': `W/${CURRENT}` }, 412],
    [
      'both, If-Match holding and If-None-Match * failing',
      '1',
      { 'if-match': '*', 'if-none-match': '*' },
      412,
    ],
    ['If-Match without quotes', '1', { 'if-match': '0-0' }, 400],
    ['If-Match with a trailing comma and garbage', '1', { 'if-match': `${CURRENT}, x` }, 400],
    ['If-None-Match empty', '2', { 'if-none-match': '' }, 400],
  ]
  for (const method of ['PUT', 'DELETE']) {
    for (const [name, id, headers, status] of matrix) {
      it(`${method} with ${name} answers ${status}`, async () => {
        const { send } = setup({ token: TOKEN, kafkaDown: true })
        const body = method === 'PUT' ? '{"saldo": 1}' : undefined
        const res = await send(method, `/saldo/${id}`, body, { ...auth, ...headers })
        const answer = await res.json()
        expect({ status: res.status, answer }).toMatchObject({ status })
        if (status === 412) {
          expect(answer.saldo).toEqual(id === '1' ? seed : null)
          expect(res.headers.get('etag')).toBe(id === '1' ? CURRENT : null)
        }
        if (status === 400)
          expect(answer.error).toMatch(/^If-(None-)?Match .* is not \* or a list of entity tags/)
        if (status === WRITTEN) expect(answer.error).toContain('Kafka did not confirm the write')
      })
    }
  }
})

describe('an unconditional write of a partition just taken over', () => {
  it('waits until this instance read the partition up to its end, as conditional writes do', async () => {
    const { send, transactions, conditional } = setup({ token: TOKEN })
    // The previous owner's last write, committed but not read here yet.
    transactions.holdReaders()
    const theirs = { cliente_id: '1', saldo: 999, timestamp: '2026-12-02T10:00:00' }
    await transactions.append(0, [{ topic: TOPIC, message: { key: '1', value: JSON.stringify(theirs) } }])
    const before = transactions.appends
    conditional.readFirst(0)
    let appendsWhenAsked: number | undefined
    transactions.onEndOffsets = () => {
      appendsWhenAsked = transactions.appends
      transactions.releaseReaders()
    }
    const res = await send('PUT', '/saldo/1', '{"saldo": 5}', auth)
    expect(res.status).toBe(200)
    // The end offsets were read before the PUT was appended, and its ETag follows the other owner's.
    expect(appendsWhenAsked).toBe(before)
    expect(transactions.appends).toBe(before + 1)
    expect(res.headers.get('etag')).toBe('"0-4"')
  })
})
