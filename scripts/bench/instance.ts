import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ReadyAnswer } from '../../src/http/models.ts'

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released for the process we start). */
export function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  return port
}

/** A size line of /proc/PID/status, in bytes. */
function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const kb = new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  if (!kb) throw new Error(`no ${field} for process ${pid}`)
  return Number(kb) * 1024
}

/** Resident set size of a process, in bytes. */
export const rss = (pid: number): number => statusBytes(pid, 'VmRSS')

/** The highest resident set size the process has had so far, in bytes. */
export const peakRss = (pid: number): number => statusBytes(pid, 'VmHWM')

/**
 * RSS once the garbage of a replay is collected: right after ready it is several times the live
 * data, and it falls over a few seconds. Samples every second until two agree within 2%.
 */
export async function settledRss(pid: number, maxSeconds = 20): Promise<number> {
  let last = rss(pid)
  for (let i = 0; i < maxSeconds; i++) {
    await Bun.sleep(1000)
    const now = rss(pid)
    if (Math.abs(now - last) <= last * 0.02) return now
    last = now
  }
  return last
}

export interface ApiOptions {
  bin: string
  bootstrap: string
  topic: string
  /** 'memory', or a folder for the snapshot. */
  stateDir: string
  /** Where the process's log (its stderr) goes, as NAME.log. */
  logDir: string
  name: string
  /** More settings, e.g. SALDO_API_TOKEN to enable writes. */
  env?: Record<string, string>
}

/** A running saldo-api process: its URL, and when it was started (performance.now()). */
export class ApiProcess {
  readonly url: string
  readonly startedAt: number
  readonly #proc: Bun.Subprocess
  readonly #log: string

  constructor(options: ApiOptions) {
    const port = freePort()
    this.url = `http://127.0.0.1:${port}`
    this.#log = join(options.logDir, `${options.name}.log`)
    this.startedAt = performance.now()
    this.#proc = Bun.spawn([options.bin], {
      // No .env in the logs folder: the settings are exactly these.
      cwd: options.logDir,
      env: {
        PATH: process.env.PATH ?? '',
        BOOTSTRAP_SERVERS: options.bootstrap,
        TOPIC: options.topic,
        GROUP: 'saldo-bench',
        PORT: String(port),
        HOST: '127.0.0.1',
        // It listens on 127.0.0.1 only: the default (the host name) may not reach it when forwarded to.
        ADVERTISED_URL: this.url,
        STATE_DIR: options.stateDir,
        LOG_LEVEL: 'info',
        ...options.env,
      },
      stdout: 'ignore',
      stderr: Bun.file(this.#log),
    })
  }

  get pid(): number {
    return this.#proc.pid
  }

  /** Milliseconds from the start of the process until `path` answers 200. */
  async msUntil(path: string, timeoutMs = 15 * 60_000, pollMs = 20): Promise<number> {
    const deadline = this.startedAt + timeoutMs
    for (;;) {
      if (this.#proc.exitCode !== null) {
        const tail = readFileSync(this.#log, 'utf8').slice(-2000)
        throw new Error(`saldo-api exited ${this.#proc.exitCode} before ${path} answered 200:\n${tail}`)
      }
      const ok = await fetch(`${this.url}${path}`).then(
        (r) => r.status === 200,
        () => false,
      )
      if (ok) return performance.now() - this.startedAt
      if (performance.now() > deadline) throw new Error(`${path} did not answer 200 in ${timeoutMs} ms`)
      await Bun.sleep(pollMs)
    }
  }

  async keys(): Promise<number> {
    return (await this.readiness()).keys
  }

  /** The body of GET /ready, 200 or 503: progress, keys held and the owner map. */
  async readiness(): Promise<ReadyAnswer> {
    return (await (await fetch(`${this.url}/ready`)).json()) as ReadyAnswer
  }

  /** kill -9: the process dies at once, its sockets closed by the kernel, nothing flushed or said. */
  async kill(): Promise<void> {
    this.#proc.kill('SIGKILL')
    await this.#proc.exited
  }

  /** Stops it as an operator would (SIGTERM), and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.#proc.exitCode !== null || this.#proc.signalCode !== null) return
    this.#proc.kill('SIGTERM')
    // A timer, not Bun.sleep: a sleep left pending kept the bench alive for its 30 s after every stop.
    let timer: ReturnType<typeof setTimeout> | undefined
    const exited = await Promise.race([
      this.#proc.exited.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), 30_000)
      }),
    ])
    clearTimeout(timer)
    if (!exited) {
      this.#proc.kill('SIGKILL')
      await this.#proc.exited
    }
  }
}
