import { describe, expect, it } from 'bun:test'
import { setup, TOKEN } from './app-fixture.ts'

/** A request whose body records whether anything pulled from it. */
function watched(method: string, path: string, headers: Record<string, string> = {}) {
  let pulled = false
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulled = true
        controller.enqueue(new TextEncoder().encode('{"saldo":1}'))
        controller.close()
      },
    },
    // Nothing is pulled until someone reads.
    { highWaterMark: 0 },
  )
  const request = new Request(`http://localhost${path}`, {
    method,
    body,
    headers: { 'content-type': 'application/json', ...headers },
  })
  return { request, pulled: () => pulled }
}

describe('request bodies', () => {
  it('reads no body before the token check, on any route and method', async () => {
    const { app } = setup({ token: TOKEN, metricsPublic: false })
    for (const [method, path] of [
      ['PUT', '/saldo/1'],
      ['DELETE', '/saldo/1'],
      ['POST', '/saldos'],
      ['PUT', '/saldo/a/b'],
      ['DELETE', '/saldo'],
      ['GET', '/saldo/1'],
      ['GET', '/events'],
      ['GET', '/stats'],
    ]) {
      const { request, pulled } = watched(method as string, path as string)
      const res = await app.handle(request)
      expect({ method, path, status: res.status, pulled: pulled() }).toEqual({
        method,
        path,
        status: 401,
        pulled: false,
      })
    }
  })

  it('ignores the body of a DELETE, JSON or not: a DELETE needs none', async () => {
    const { send } = setup({ token: TOKEN, kafkaDown: true })
    for (const body of ['not json', '{"saldo":', 'x'.repeat(1000)]) {
      const res = await send('DELETE', '/saldo/999', body, {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
      })
      // Past the body, the DELETE goes on to write its tombstone (no broker here: 503), never a 400.
      expect(res.status).toBe(503)
      expect((await res.json()).error).toContain('no broker in unit tests')
    }
  })
})
