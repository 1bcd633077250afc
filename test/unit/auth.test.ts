import { describe, expect, it } from 'bun:test'
import { tokenCheck } from '../../src/http/auth.ts'
import { setup, TOKEN } from './app-fixture.ts'

describe('the bearer token check', () => {
  const carries = tokenCheck(TOKEN)

  it('accepts the token under the bearer scheme in any case, and nothing else', () => {
    for (const header of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER  ${TOKEN}`])
      expect(carries(header), header).toBe(true)
    const wrong = [
      null,
      '',
      TOKEN,
      `Basic ${TOKEN}`,
      'Bearer ',
      'Bearer',
      `Bearer${TOKEN}`,
      `Bearer\t${TOKEN}`,
      `Bearer ${TOKEN.slice(1)} `,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}é`,
      `Bearer ${TOKEN.toUpperCase()}`,
    ]
    for (const header of wrong) expect(carries(header), String(header)).toBe(false)
  })

  it('checks the token of a body route before the body, in one hook only', async () => {
    const { app } = setup({ token: TOKEN })
    app.compile()
    for (const key of ['POST /saldos', 'PUT /saldo/:cliente_id']) {
      const route = app.router.history.find((r) => `${r.method} ${r.path}` === key)
      const source = String(route?.compile())
      expect(source, key).toContain('e.parse[0]')
      expect(source, `${key} checks the token again after its parse hook`).not.toContain('e.transform[')
    }
  })
})
