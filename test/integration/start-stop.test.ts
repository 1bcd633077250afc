import { describe, expect, it } from 'bun:test'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { deleteTopic, freePort, onCleanup, uniqueTopic, waitFor } from '../helpers.ts'

const root = join(import.meta.dir, '../..')

/**
 * A fresh checkout of the working tree (tracked and new files, nothing ignored: no node_modules, no
 * .run, no .kafka) in a temporary folder, so start.sh installs and records everything there.
 */
function freshCheckout(): string {
  const listed = Bun.spawnSync(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
  })
  const checkout = mkdtempSync(join(tmpdir(), 'saldo-checkout-'))
  for (const file of listed.stdout.toString().split('\0')) {
    if (!file || !existsSync(join(root, file))) continue
    mkdirSync(dirname(join(checkout, file)), { recursive: true })
    copyFileSync(join(root, file), join(checkout, file))
  }
  return checkout
}

function sh(checkout: string, command: string, env: Record<string, string>) {
  const run = Bun.spawnSync(['bash', '-c', command], { cwd: checkout, env: { ...process.env, ...env } })
  return { code: run.exitCode, stdout: run.stdout.toString(), stderr: run.stderr.toString() }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Processes whose command line or working folder is inside `folder`. */
function processesIn(folder: string): string[] {
  const found: string[] = []
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
      const cwd = readlinkSync(`/proc/${pid}/cwd`)
      if (cmdline.includes(folder) || cwd.startsWith(folder)) found.push(`${pid}: ${cmdline}`)
    } catch {
      // The process ended while we looked, or is not ours to inspect.
    }
  }
  return found
}

/** Starts saldo with start.sh --detach in a fresh checkout; cleans up whatever the test leaves. */
function startDetached(env: Record<string, string>) {
  const checkout = freshCheckout()
  const pidFile = join(checkout, '.run/saldo-api.pid')
  onCleanup(() => {
    if (existsSync(pidFile)) sh(checkout, './scripts/stop.sh', env)
    rmSync(checkout, { recursive: true, force: true })
  })
  const started = sh(checkout, './scripts/start.sh --detach', env)
  return { checkout, started, pid: existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0 }
}

describe('scripts/start.sh and scripts/stop.sh', () => {
  it('start the API in the background on a broker that already runs, and stop the API only', async () => {
    const port = freePort()
    const env = { PORT: String(port), TOPIC: uniqueTopic() }
    onCleanup(() => deleteTopic(env.TOPIC))
    const { checkout, started, pid } = startDetached(env)
    expect(started.code).toBe(0)
    expect(started.stderr).toContain('using the broker that already answers')
    expect(alive(pid)).toBe(true)

    // The curl line start.sh prints works as printed, on the demo data it sent.
    const curl = started.stdout
      .split('\n')
      .find((line) => line.trim().startsWith(`curl -s http://localhost:${port}/saldo/1`))
    expect(curl).toBeDefined()
    const answer = sh(checkout, curl ?? '', {})
    expect(JSON.parse(answer.stdout)).toMatchObject({ cliente_id: '1', saldo: 150 })

    const stopped = sh(checkout, './scripts/stop.sh', env)
    expect(stopped.code).toBe(0)
    expect(stopped.stderr).toContain(`stopping saldo-api (pid ${pid})`)
    expect(stopped.stderr).toContain('leaving the Kafka broker running')
    expect(alive(pid)).toBe(false)
    expect(processesIn(checkout)).toEqual([])
    expect(sh(root, 'scripts/kafka.sh status', {}).code).toBe(0)
  })

  it('start a broker when none answers, and stop it too', async () => {
    // A private broker on other ports, in the checkout's own .kafka: the shared one is never touched.
    const env = {
      PORT: String(freePort()),
      TOPIC: uniqueTopic(),
      BOOTSTRAP_SERVERS: 'localhost:19392',
      KAFKA_CONTROLLER_PORT: '19393',
      KAFKA_SASL_PORT: '19394',
      KAFKA_TLS_PORT: '19395',
      KAFKA_RUNNER: 'native',
    }
    const { checkout, started, pid } = startDetached(env)
    onCleanup(() => sh(checkout, 'scripts/kafka.sh stop', env))
    expect(started.code).toBe(0)
    expect(started.stderr).toContain('broker ready on localhost:19392')
    expect(sh(checkout, 'scripts/kafka.sh status', env).stdout).toContain('native')

    const stopped = sh(checkout, './scripts/stop.sh', env)
    expect(stopped.code).toBe(0)
    expect(stopped.stderr).toContain('stopping broker')
    expect(alive(pid)).toBe(false)
    await waitFor(() => processesIn(checkout).length === 0, { what: 'every process of the checkout to end' })
    expect(sh(checkout, 'scripts/kafka.sh status', env).code).toBe(1)
  })

  it('refuse unknown arguments with the usage, exit 2', () => {
    const run = sh(root, './scripts/start.sh --bogus', {})
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('usage: scripts/start.sh [--detach]')
  })
})
