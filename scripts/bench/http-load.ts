import { join } from 'node:path'
import { freePort } from './instance.ts'
import type { Http, Load } from './report.ts'
import { ratios, spread } from './stats.ts'

/** wrk's summary of one load, as random-get.lua prints it. */
interface WrkRun {
  requests: number
  durationUs: number
  errors: number
  p50Us: number
  p99Us: number
}

/** One connection count for every load: enough to saturate one Bun thread, few enough for 2 cores. */
const CONNECTIONS = 64

/** Where a load goes, and the bearer token its requests carry (sent to the bare server too: same bytes). */
export interface LoadTarget {
  url: string
  token: string
}

async function wrk({ url, token }: LoadTarget, keys: number, seconds: number, rate = 0): Promise<WrkRun> {
  const script = join(import.meta.dir, 'random-get.lua')
  const args = ['wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '-s', script, url, '--']
  args.push(String(keys), String(rate), token)
  const run = Bun.spawn(args, { stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([
    new Response(run.stdout).text(),
    new Response(run.stderr).text(),
    run.exited,
  ])
  const line = out.split('\n').find((l) => l.startsWith('{"requests"'))
  if (code !== 0 || !line) throw new Error(`wrk exited ${code}: ${err || out}`)
  return JSON.parse(line) as WrkRun
}

function load(runs: WrkRun[]): Load {
  return {
    requestsPerSecond: spread(runs.map((r) => r.requests / (r.durationUs / 1e6))),
    p50Ms: spread(runs.map((r) => r.p50Us / 1000)),
    p99Ms: spread(runs.map((r) => r.p99Us / 1000)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
  }
}

/** Starts the bare Bun.serve over ids 1..keys; resolves with its URL and a stop function. */
export async function startBareServer(keys: number): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = freePort()
  const proc = Bun.spawn(['bun', join(import.meta.dir, 'bare-server.ts')], {
    env: { ...process.env, PORT: String(port), KEYS: String(keys) },
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const reader = proc.stdout.getReader()
  const first = await reader.read()
  if (!new TextDecoder().decode(first.value).includes('listening'))
    throw new Error('the bare server did not start')
  reader.releaseLock()
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      proc.kill('SIGTERM')
      await proc.exited
    },
  }
}

/**
 * GET /saldo/:id over random keys against saldo-api and the bare server: at saturation, then at a
 * fixed rate of half saldo's saturation (the same rate for both), runs interleaved.
 */
export async function measureHttp(
  saldo: LoadTarget,
  bare: LoadTarget,
  keys: number,
  seconds: number,
  runs: number,
  say: (line: string) => void,
): Promise<Http> {
  const full = { saldo: [] as WrkRun[], bare: [] as WrkRun[] }
  for (let run = 1; run <= runs; run++) {
    full.saldo.push(await wrk(saldo, keys, seconds))
    full.bare.push(await wrk(bare, keys, seconds))
    say(
      `  http run ${run}: saturation saldo ${rate(full.saldo.at(-1))} req/s, bare ${rate(full.bare.at(-1))} req/s`,
    )
  }
  const saturation = { saldo: load(full.saldo), bare: load(full.bare) }
  const half = Math.round(saturation.saldo.requestsPerSecond.median / 2)
  const fixed = { saldo: [] as WrkRun[], bare: [] as WrkRun[] }
  for (let run = 1; run <= runs; run++) {
    fixed.saldo.push(await wrk(saldo, keys, seconds, half))
    fixed.bare.push(await wrk(bare, keys, seconds, half))
    say(
      `  http run ${run}: at ${half} req/s, p99 saldo ${p99(fixed.saldo.at(-1))} ms, bare ${p99(fixed.bare.at(-1))} ms`,
    )
  }
  const perSecond = (runs: WrkRun[]) => runs.map((r) => r.requests / (r.durationUs / 1e6))
  return {
    keys,
    seconds,
    connections: CONNECTIONS,
    saturation: { ...saturation, vsBare: ratios(perSecond(full.saldo), perSecond(full.bare)) },
    half: { rate: half, saldo: load(fixed.saldo), bare: load(fixed.bare) },
  }
}

const rate = (r: WrkRun | undefined) => (r ? Math.round(r.requests / (r.durationUs / 1e6)) : 0)
const p99 = (r: WrkRun | undefined) => (r ? (r.p99Us / 1000).toFixed(2) : '?')
