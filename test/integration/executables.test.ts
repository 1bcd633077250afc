import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isIsoTimestamp } from '../../src/balance.ts'
import { lines } from '../../src/cli/lines.ts'
import { BOOTSTRAP_SERVERS, createTopic, metricValues, onCleanup, waitFor } from '../helpers.ts'

const root = join(import.meta.dir, '../..')

// Built once for this file with the same script as `bun run build`, then copied into an empty folder
// (no node_modules, no package.json) where they run with an environment holding only TOPIC: no PATH,
// so no Bun either. The rest of the settings come from that folder's .env.
let folder = ''

beforeAll(() => {
  const build = mkdtempSync(join(tmpdir(), 'saldo-build-'))
  try {
    const built = Bun.spawnSync(['bash', join(root, 'scripts/build.sh'), build], { stderr: 'pipe' })
    if (built.exitCode !== 0) throw new Error(`scripts/build.sh failed:\n${built.stderr.toString()}`)
    folder = mkdtempSync(join(tmpdir(), 'saldo-bin-'))
    for (const name of ['saldo-api', 'saldo-produce']) {
      copyFileSync(join(build, name), join(folder, name))
      chmodSync(join(folder, name), 0o755)
    }
  } finally {
    rmSync(build, { recursive: true, force: true })
  }
  writeFileSync(
    join(folder, '.env'),
    `BOOTSTRAP_SERVERS=${BOOTSTRAP_SERVERS}\nHOST=127.0.0.1\nPORT=0\nSTATE_DIR=memory\nLOG_LEVEL=info\n`,
  )
})

afterAll(() => {
  if (folder) rmSync(folder, { recursive: true, force: true })
})

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs a copied executable to its end, with `input` piped to its stdin. */
async function run(name: string, args: string[], env: Record<string, string> = {}, input = ''): Promise<Run> {
  const proc = Bun.spawn([join(folder, name), ...args], {
    cwd: folder,
    env,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  proc.stdin.write(input)
  proc.stdin.end()
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  return { code, stdout, stderr }
}

const produce = (topic: string, args: string[], input?: string) =>
  run('saldo-produce', args, { TOPIC: topic }, input)

/** Starts the copied saldo-api on `topic` and a free port; resolves with its URL once /ready is 200. */
async function startApi(topic: string) {
  const proc = Bun.spawn([join(folder, 'saldo-api')], { cwd: folder, env: { TOPIC: topic }, stderr: 'pipe' })
  onCleanup(async () => {
    proc.kill()
    await proc.exited
  })
  const log: Array<Record<string, unknown>> = []
  void (async () => {
    for await (const line of lines(proc.stderr)) log.push(line.startsWith('{') ? JSON.parse(line) : { line })
  })()
  const listening = await waitFor(
    () => {
      if (proc.exitCode !== null) throw new Error(`saldo-api exited: ${JSON.stringify(log)}`)
      return log.find((entry) => entry.msg === 'listening')
    },
    { what: 'saldo-api to log "listening"' },
  )
  const url = String(listening.url)
  const get = (path: string) => fetch(`${url}${path}`)
  await waitFor(async () => (await get('/ready')).status === 200, { what: 'GET /ready to be 200' })
  return { url, get, proc, log }
}

describe('the executables, run from an empty folder', () => {
  it('explain themselves with --help: usage, options and configuration variables', async () => {
    const api = await run('saldo-api', ['--help'])
    expect(api.code).toBe(0)
    expect(api.stdout).toContain('usage: saldo-api [--help]')
    expect(api.stdout).toContain('SHUTDOWN_TIMEOUT_MS')
    const producer = await run('saldo-produce', ['--help'])
    expect(producer.code).toBe(0)
    expect(producer.stdout).toContain('--count N')
    expect(producer.stdout).toContain('BOOTSTRAP_SERVERS')
  })

  it('refuse bad arguments with the reason and the usage on stderr, exit 2', async () => {
    for (const [name, args, reason] of [
      ['saldo-produce', ['--set', '1'], '--set needs ID SALDO'],
      ['saldo-produce', ['--count', 'lots'], '--count "lots" is not a whole number'],
      ['saldo-api', ['--port', '80'], 'unknown argument "--port"'],
    ] as const) {
      const result = await run(name, [...args])
      expect(result).toMatchObject({ code: 2, stdout: '' })
      expect(result.stderr).toContain(reason)
      expect(result.stderr).toContain(`usage: ${name}`)
    }
  })

  it("send the demo balances, then serve GET /saldo/1 in the seed's shape", async () => {
    const topic = await createTopic()
    const demo = await produce(topic, [])
    expect(demo.code).toBe(0)
    expect(demo.stdout.match(/→ partition \d+, offset \d+$/gm)).toHaveLength(5)

    const api = await startApi(topic)
    // HOST=127.0.0.1 came from the folder's .env (the default is 0.0.0.0).
    expect(api.url).toStartWith('http://127.0.0.1:')
    const res = await api.get('/saldo/1')
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(Object.keys(body)).toEqual(['cliente_id', 'saldo', 'timestamp'])
    expect(body).toMatchObject({ cliente_id: '1', saldo: 150 })
    expect(isIsoTimestamp(body.timestamp)).toBe(true)
  })

  it('take balances typed through a pipe in --interactive mode, asking again after a bad answer', async () => {
    const topic = await createTopic()
    const api = await startApi(topic)
    const session = await produce(topic, ['--interactive'], '42\nabc\n99.5\nexit\n')
    expect(session.code).toBe(0)
    expect(session.stderr).toContain('saldo "abc" is not a finite number')
    expect(session.stdout.match(/^saldo> $/gm)).toHaveLength(2)
    expect(session.stdout).toContain('sent 1 balance')

    const res = await waitFor(
      async () => {
        const r = await api.get('/saldo/42')
        return r.status === 200 ? r : undefined
      },
      { what: 'GET /saldo/42 to be 200' },
    )
    expect(await res.json()).toMatchObject({ cliente_id: '42', saldo: 99.5 })
  })

  it('generate --count N records over --keys K ids, all of which the API then serves', async () => {
    const topic = await createTopic()
    const api = await startApi(topic)
    const bulk = await produce(topic, ['--count', '20000', '--keys', '500'])
    expect(bulk.code).toBe(0)
    expect(bulk.stdout).toContain('sent 20000 records over 500 keys')
    // Not a terminal: plain progress lines, never a redrawn bar.
    expect(bulk.stderr).toContain('progress: 20,000/20,000 (100%)')
    expect(bulk.stderr).not.toContain('\r')
    await waitFor(async () => (await (await api.get('/ready')).json()).keys === 500, {
      what: '/ready to count 500 keys',
    })
    expect((await api.get('/saldo/500')).status).toBe(200)
    expect((await api.get('/saldo/501')).status).toBe(404)
  })

  it('make GET /saldo/ID answer 404 after --delete ID', async () => {
    const topic = await createTopic()
    const api = await startApi(topic)
    expect((await produce(topic, ['--set', '7', '10'])).code).toBe(0)
    await waitFor(async () => (await api.get('/saldo/7')).status === 200, { what: 'GET /saldo/7 to be 200' })

    const deleted = await produce(topic, ['--delete', '7'])
    expect(deleted.code).toBe(0)
    expect(deleted.stdout).toMatch(/^tombstone for cliente_id "7" → partition \d+, offset \d+$/m)
    const res = await waitFor(
      async () => {
        const r = await api.get('/saldo/7')
        return r.status === 404 ? r : undefined
      },
      { what: 'GET /saldo/7 to be 404' },
    )
    expect(await res.json()).toEqual({ error: 'cliente não encontrado' })
  })

  it('stop cleanly on SIGTERM: open event streams end, Kafka is left, exit 0; a second signal exits at once', async () => {
    const topic = await createTopic()
    const api = await startApi(topic)
    const stream = await fetch(`${api.url}/events`)
    expect(stream.status).toBe(200)
    const reading = new Response(stream.body).text()
    api.proc.kill('SIGTERM')
    await reading // ends cleanly; a reset connection would reject
    expect(await api.proc.exited).toBe(0)
    expect(api.log.map((entry) => entry.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']))

    // A request waiting for a position that never comes keeps the first shutdown busy (in-flight
    // requests are let finish), so the second signal surely arrives during it.
    const again = await startApi(topic)
    const waiting = fetch(`${again.url}/saldo/1?min_position=0:999999999`).catch((error: Error) => error)
    await waitFor(
      async () =>
        metricValues(await (await again.get('/metrics')).text()).saldo_http_requests_in_flight === 2,
      { what: 'the waiting request to be in flight (with the /metrics one)' },
    )
    again.proc.kill('SIGTERM')
    await waitFor(() => again.log.some((entry) => entry.msg === 'shutting down'), {
      what: 'the shutdown to begin',
    })
    again.proc.kill('SIGTERM')
    expect(await again.proc.exited).toBe(1)
    await waiting
    await waitFor(() => again.log.some((entry) => entry.msg === 'second signal; exiting now'), {
      what: 'the log line of the second signal',
    })
  })
})
