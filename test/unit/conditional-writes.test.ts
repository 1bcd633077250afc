import { describe, expect, it } from 'bun:test'
import { seed, setup, TOKEN } from './app-fixture.ts'

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
