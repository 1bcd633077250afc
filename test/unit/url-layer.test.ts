import { describe, expect, it } from 'bun:test'
import { onCleanup, raw } from '../helpers.ts'
import { setup, TOKEN } from './app-fixture.ts'

/**
 * Requests as raw bytes to a listening app: the request target reaches Bun unnormalised, as from a
 * real client, and Bun's own router and URL parser have their say (app.handle skips the router).
 */
function listening() {
  const { app, store } = setup({ token: TOKEN })
  app.listen({ port: 0, hostname: '127.0.0.1' })
  onCleanup(() => app.stop(true))
  const port = app.server?.port ?? 0
  const send = async (method: string, target: string, body = '') => {
    const answer = await raw(
      port,
      `${method} ${target} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    )
    return { status: answer.status, body: JSON.parse(answer.body) }
  }
  return { store, send }
}

describe('ids through the URL layer', () => {
  it('refuses a raw backslash in the id instead of writing the client with a slash', async () => {
    const { send } = listening()
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const answer = await send(method, '/saldo/a\\b', method === 'PUT' ? '{"saldo":1}' : '')
      expect(answer).toMatchObject({ status: 400, body: { error: expect.stringContaining('%5C') } })
    }
  })

  it('answers /saldo/%2E and /saldo/.. 400, saying how to read the ids . and ..', async () => {
    const { send } = listening()
    for (const target of ['/saldo/%2E', '/saldo/.', '/saldo/..', '/saldo/%2e%2E']) {
      const answer = await send('GET', target)
      expect(answer).toMatchObject({ status: 400, body: { error: expect.stringContaining('/saldos?ids=.') } })
    }
  })

  it('reads /saldo/1/ as client 1', async () => {
    const { send } = listening()
    expect(await send('GET', '/saldo/1/')).toMatchObject({ status: 200, body: { cliente_id: '1' } })
  })

  it('reads /saldos?ids=a%2Cb as the one id "a,b", and refuses /saldos?ids=%ff like /saldo/%ff', async () => {
    const { send } = listening()
    expect(await send('GET', '/saldos?ids=a%2Cb,1')).toMatchObject({
      status: 200,
      body: { missing: ['a,b'] },
    })
    for (const target of ['/saldos?ids=%ff', '/saldo/%ff']) {
      expect(await send('GET', target)).toMatchObject({
        status: 400,
        body: { error: expect.stringContaining('percent-encoded UTF-8') },
      })
    }
  })
})
