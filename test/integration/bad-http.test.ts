import { describe, expect, it } from 'bun:test'
import { balanceRecord, createTopic, produce, raw, startService, waitUntilReady } from '../helpers.ts'

const TOKEN = 'bad-input-token-0123456789'

function seeded(seed: number) {
  let state = seed
  return (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return Math.floor((state / 2 ** 32) * n)
  }
}

/** At least a thousand malformed requests of every kind the issue lists. */
function malformedRequests(): Array<{ what: string; bytes: string | Buffer }> {
  const pick = seeded(7)
  const auth = `Authorization: Bearer ${TOKEN}\r\n`
  const get = (target: string, extra = '') => `GET ${target} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`
  const put = (target: string, body: string, type = 'application/json') =>
    `PUT ${target} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  const list: Array<{ what: string; bytes: string | Buffer }> = []
  for (let i = 0; i < 300; i++) {
    const bytes = Array.from({ length: pick(300) }, () => `%${pick(256).toString(16).padStart(2, '0')}`).join(
      '',
    )
    list.push({ what: 'random percent-encoded bytes as an id', bytes: get(`/saldo/${bytes}`) })
  }
  for (const bad of ['%', '%z', '%zz', '%C3', '%ff%fe', '%%%', '%E2%82', 'a%0', '%u00e9'])
    list.push({ what: `bad percent-encoding ${bad}`, bytes: get(`/saldo/${bad}`) })
  for (const length of [129, 200, 1000, 4000, 8000, 12000])
    list.push({ what: `an id of ${length} characters`, bytes: get(`/saldo/${'x'.repeat(length)}`) })
  for (const traversal of [
    '/saldo/../../etc/passwd',
    '/../../../etc/passwd',
    '/saldo/..%2F..%2Fetc%2Fpasswd',
    '/saldo/%2e%2e/%2e%2e',
    '/saldo/./1',
    '//saldo//1',
    '/saldo/1/../../health/..',
  ])
    list.push({ what: `path traversal ${traversal}`, bytes: get(traversal) })
  for (let i = 0; i < 200; i++) {
    const methods = ['POST', 'PATCH', 'OPTIONS', 'PUT', 'DELETE', 'PROPFIND', 'FOO']
    const paths = ['/saldo/1', '/saldos', '/health', '/ready', '/', '/nothing', `/saldo/${i}`]
    const method = methods[pick(methods.length)]
    const path = paths[pick(paths.length)]
    const withBody = pick(2) === 1
    list.push({
      what: `${method} ${path}`,
      bytes: `${method} ${path} HTTP/1.1\r\nHost: x\r\n${withBody ? 'Content-Length: 2\r\n\r\n{}' : '\r\n'}`,
    })
  }
  const badJson = [
    '{',
    '{"saldo":',
    '{"saldo":1,}',
    'null',
    '[]',
    '"saldo"',
    '{"saldo":NaN}',
    '{"saldo":Infinity}',
    '{"saldo":1e999}',
    '{"saldo":"1"}',
    '{"saldo":true}',
    '{"saldo":null}',
    '{"saldo":1,"timestamp":5}',
    '{"saldo":1,"timestamp":"tomorrow"}',
    '[[[[[[[[[[',
    `${'['.repeat(100_00)}${']'.repeat(100_00)}`,
    '\u0000',
    '{"saldo":1}garbage',
  ]
  for (let i = 0; i < 200; i++) {
    const body = badJson[i % badJson.length] as string
    list.push({ what: `bad JSON ${body.slice(0, 20)}`, bytes: put(`/saldo/${i}`, body) })
  }
  for (const type of [
    'text/plain',
    'application/xml',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
    '',
    'application/jsonx',
    'json',
  ])
    for (let i = 0; i < 15; i++)
      list.push({ what: `content type ${type}`, bytes: put('/saldo/1', '{"saldo":1}', type) })
  // Past MAX_BODY_BYTES (256 KiB).
  for (const size of [300_000, 1_000_000, 5_000_000])
    list.push({
      what: `a body of ${size} bytes`,
      bytes: put('/saldo/1', `{"saldo":1,"x":"${'x'.repeat(size)}"}`),
    })
  list.push({
    what: 'a chunked body of 2 MB without Content-Length',
    bytes: `PUT /saldo/1 HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${`8000\r\n${'x'.repeat(0x8000)}\r\n`.repeat(64)}0\r\n\r\n`,
  })
  for (let i = 0; i < 100; i++) {
    const ids = Array.from({ length: pick(3000) }, (_, k) => (pick(10) === 0 ? '' : `${k}`)).join(',')
    list.push({ what: 'a bad ids list', bytes: get(`/saldos?ids=${ids}`) })
  }
  for (const query of [
    '/saldos',
    '/saldos?ids',
    '/saldos?id=1',
    '/saldo/1?min_position=x',
    '/saldo/1?min_position=0:-1',
    '/saldo/1?min_position=99999999999:1',
  ])
    for (let i = 0; i < 10; i++) list.push({ what: `query ${query}`, bytes: get(query) })
  for (let i = 0; i < 50; i++) {
    const headers = Array.from(
      { length: 50 + i * 4 },
      (_, k) => `X-Filler-${k}: ${'v'.repeat(pick(40))}\r\n`,
    ).join('')
    list.push({ what: `${50 + i * 4} extra headers`, bytes: get('/saldo/%zz', headers) })
  }
  for (const header of [
    'Authorization: Bearer',
    'Authorization: Basic xyz',
    `Authorization: Bearer ${'t'.repeat(5000)}`,
    'X-Saldo-Min-Position: nope',
  ])
    for (let i = 0; i < 10; i++)
      list.push({
        what: `header ${header.slice(0, 30)}`,
        bytes: put('/saldo/1', '{"saldo":1}').replace(auth, `${header}\r\n`),
      })
  return list
}

describe('bad HTTP input', () => {
  it('answers every malformed request with a 4xx and a JSON error; no 5xx, the process alive, memory stable', async () => {
    const topic = await createTopic()
    await produce(topic, [balanceRecord('1', 1)])
    const service = startService(topic, { SALDO_API_TOKEN: TOKEN })
    await waitUntilReady(service)
    const port = Number(service.app.server?.port)
    const requests = malformedRequests()
    expect(requests.length).toBeGreaterThanOrEqual(1000)

    Bun.gc(true)
    const rssBefore = process.memoryUsage().rss
    const refusedByParser: string[] = []
    for (const { what, bytes } of requests) {
      const answer = await raw(port, bytes)
      // Bun's HTTP parser refuses some requests before the app sees them: 431 for headers over
      // 16 KiB, 413 for a body over MAX_BODY_BYTES (declared or chunked), and a closed connection for a method
      // that is not an HTTP token it knows.
      if (Number.isNaN(answer.status) || (answer.body === '' && /connection: close/i.test(answer.headers))) {
        refusedByParser.push(`${answer.status} ${what}`)
        continue
      }
      if (answer.status < 400 || answer.status > 499) {
        throw new Error(`${what}: answered ${answer.status} ${answer.body.slice(0, 200)}`)
      }
      let body: { error?: unknown }
      try {
        body = JSON.parse(answer.body)
      } catch {
        throw new Error(
          `${what}: answered ${answer.status} without a JSON body: ${answer.headers} ${answer.body.slice(0, 100)}`,
        )
      }
      expect(typeof body.error).toBe('string')
    }
    Bun.gc(true)
    const growthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20
    console.log(
      `bad-http: ${requests.length} malformed requests; ${requests.length - refusedByParser.length} answered by saldo with a 4xx JSON error, ${refusedByParser.length} refused by Bun's parser; RSS ${growthMb >= 0 ? '+' : ''}${growthMb.toFixed(1)} MB`,
    )

    expect(
      refusedByParser.filter((line) => !/^(431 |413 a (chunked )?body of |NaN FOO )/.test(line)),
    ).toEqual([])
    expect(growthMb).toBeLessThan(100)
    expect((await service.get('/health')).status).toBe(200)
    expect(
      await (await service.get('/saldo/1', { headers: { authorization: `Bearer ${TOKEN}` } })).json(),
    ).toMatchObject({ saldo: 1 })
  })
})
