import { describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { balanceRecord, createTopic, produce, startService, waitUntilReady } from '../helpers.ts'
import { runScript, typecheck, typedProject } from '../openapi-tools.ts'

const TOKEN = 'a-token-of-16-chars-or-more'

/**
 * A client as a user writes it: openapi-fetch over the `paths` generated from /openapi.json. The
 * declarations pin what the generated types must say; the @ts-expect-error lines fail the type check
 * if the types let anything through (an `any` would).
 */
const CLIENT = `
import createClient from 'openapi-fetch'
import type { paths } from './saldo-api.ts'

const client = createClient<paths>({
  baseUrl: process.env.SALDO_URL,
  headers: { authorization: \`Bearer \${process.env.SALDO_TOKEN}\` },
})
const path = (cliente_id: string) => ({ params: { path: { cliente_id } } })

const found = await client.GET('/saldo/{cliente_id}', path('1'))
const saldo: number | undefined = found.data?.saldo
const missing = await client.GET('/saldo/{cliente_id}', path('nobody'))
const notFound: string | undefined = missing.error?.error
const written = await client.PUT('/saldo/{cliente_id}', { ...path('2'), body: { saldo: 42.5 } })
const position: string | undefined = written.data?.position
const read = await client.GET('/saldo/{cliente_id}', {
  params: { path: { cliente_id: '2' }, query: { min_position: position } },
})
const unauthorized = await createClient<paths>({ baseUrl: process.env.SALDO_URL }).GET('/saldo/{cliente_id}', path('1'))

export function neverCalled() {
  // @ts-expect-error: the parameter is cliente_id
  void client.GET('/saldo/{cliente_id}', { params: { path: { id: '1' } } })
  // @ts-expect-error: a saldo is a number
  void client.PUT('/saldo/{cliente_id}', { ...path('2'), body: { saldo: 'a lot' } })
  // @ts-expect-error: no such route
  void client.GET('/saldo')
}

console.log(JSON.stringify({
  found: [found.response.status, saldo],
  missing: [missing.response.status, notFound],
  written: [written.response.status, position],
  read: [read.response.status, read.data?.saldo],
  unauthorized: unauthorized.response.status,
}))
`

/** Takes a saldo as text: the generated types say it is a number. */
const WRONG = `
import createClient from 'openapi-fetch'
import type { paths } from './saldo-api.ts'
const saldo: string | undefined = (
  await createClient<paths>().GET('/saldo/{cliente_id}', { params: { path: { cliente_id: '1' } } })
).data?.saldo
`

describe('a typed client generated from /openapi.json', () => {
  it('type-checks and calls a running instance with the token: a read, a 404 and a write', async () => {
    const topic = await createTopic({ partitions: 1 })
    await produce(topic, [balanceRecord('1', 150)])
    const service = startService(topic, { SALDO_API_TOKEN: TOKEN })
    await waitUntilReady(service)

    const dir = await typedProject(await (await service.get('/openapi.json')).text())
    writeFileSync(join(dir, 'client.ts'), CLIENT)
    expect(await typecheck(dir)).toEqual({ exitCode: 0, output: '' })

    const result = JSON.parse(
      await runScript(dir, 'client.ts', { SALDO_URL: service.url, SALDO_TOKEN: TOKEN }),
    )
    expect(result).toEqual({
      found: [200, 150],
      missing: [404, 'cliente não encontrado'],
      written: [200, '0:2'],
      read: [200, 42.5],
      unauthorized: 401,
    })

    // The check can fail: a call the generated types do not allow is an error.
    writeFileSync(join(dir, 'wrong.ts'), WRONG)
    const wrong = await typecheck(dir)
    expect(wrong.exitCode).not.toBe(0)
    expect(wrong.output).toContain("wrong.ts(4,7): error TS2322: Type 'number | undefined' is not assignable")
  }, 60_000)
})
