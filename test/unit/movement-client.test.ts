import { describe, expect, it } from 'bun:test'
import { movementLine, sendMovement } from '../../src/cli/movement-client.ts'
import { setup, TOKEN } from './app-fixture.ts'

/** saldo-produce --credit/--debit against the real routes (app.handle), with failures put in front. */
function api(failures: Array<'503' | 'network'>) {
  const app = setup({ token: TOKEN })
  const keys: string[] = []
  const waits: number[] = []
  const fetch = async (request: Request) => {
    keys.push(request.headers.get('idempotency-key') ?? '')
    const failure = failures.shift()
    if (failure === 'network') throw new Error('connection reset')
    const answer = await app.app.handle(request)
    // The first attempt was applied, but its answer is lost on the way: the client sees a 503.
    if (failure === '503') return new Response('{"error":"gateway"}', { status: 503 })
    return answer
  }
  const options = {
    url: 'http://localhost',
    token: TOKEN,
    fetch,
    sleep: async (ms: number) => {
      waits.push(ms)
    },
  }
  return { app, keys, waits, options }
}

describe('sendMovement', () => {
  it('retries a 5xx and a network error with the same Idempotency-Key; the movement applies once', async () => {
    const { app, keys, waits, options } = api(['503', 'network'])
    const outcome = await sendMovement('1', -20, options)
    expect(outcome.status).toBe(201)
    expect(new Set(keys).size).toBe(1)
    expect(keys).toHaveLength(3)
    expect(waits).toEqual([250, 500])
    expect(app.transactions.appends).toBe(1)
    expect(movementLine(outcome)).toEqual({
      ok: true,
      text: `debit of 20 for cliente_id "1": saldo 150 → 130 (Idempotency-Key ${keys[0]})`,
    })
  })

  it('returns a 4xx at once: a refusal is final', async () => {
    const { keys, options } = api([])
    const outcome = await sendMovement('1', -1000, options)
    expect(outcome.status).toBe(422)
    expect(keys).toHaveLength(1)
    expect(movementLine(outcome).text).toStartWith('HTTP 422: the debit would leave a balance of -850')
  })

  it('gives up after its attempts, naming the key to retry with', async () => {
    const { options } = api(['network', 'network', 'network'])
    await expect(sendMovement('1', 5, { ...options, attempts: 3, key: 'k-9' })).rejects.toThrow(
      'the movement was not confirmed after 3 attempts (connection reset); retrying with Idempotency-Key k-9 is safe',
    )
  })
})
