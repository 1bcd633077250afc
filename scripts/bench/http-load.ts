import { join } from 'node:path'
import { freePort } from './instance.ts'
import type { Http, Load, Spread } from './report.ts'
import { ratios, spread } from './stats.ts'

/** wrk's summary of one load, as random-get.lua prints it. */
export interface WrkRun {
  requests: number
  durationUs: number
  errors: number
  p50Us: number
  p99Us: number
}

/** One connection count for every load: enough to saturate one Bun thread, few enough for 2 cores. */
export const CONNECTIONS = 64

/** Where a load goes, and the bearer token its requests carry (sent to the bare server too: same bytes). */
export interface LoadTarget {
  url: string
  token: string
}

/** One wrk load of GET /saldo/:id: random ids of 1..keys, or always `id`; at `rate` req/s, or 0: at saturation. */
export async function wrk(
  { url, token }: LoadTarget,
  keys: number,
  seconds: number,
  rate = 0,
  id?: string,
): Promise<WrkRun> {
  const script = join(import.meta.dir, 'random-get.lua')
  const args = ['wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '-s', script, url, '--']
  args.push(String(keys), String(rate), token, ...(id ? [id] : []))
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

export function loadOf(runs: WrkRun[]): Load {
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

/** A server under load, by the name the report gives it. */
export interface NamedTarget extends LoadTarget {
  name: string
}

/** Every server's figures of one side-by-side measurement; `vsBare` divides by the last server's. */
export interface ServerLoads {
  name: string
  saturation: Load
  half: Load
  vsBare: Spread
}

/**
 * GET /saldo/:id over random keys against each server in turn (the bare server last): at saturation,
 * then at a fixed rate of half the first server's saturation (the same rate for all), runs interleaved
 * so that the machine's noise falls on every server alike.
 */
export async function measureSideBySide(
  servers: readonly NamedTarget[],
  keys: number,
  seconds: number,
  runs: number,
  say: (line: string) => void,
): Promise<{ rate: number; servers: ServerLoads[] }> {
  const full = servers.map(() => [] as WrkRun[])
  for (let run = 1; run <= runs; run++) {
    for (const [i, server] of servers.entries()) full[i]?.push(await wrk(server, keys, seconds))
    say(
      `  http run ${run}: saturation ${servers.map((s, i) => `${s.name} ${rate(full[i]?.at(-1))}`).join(', ')} req/s`,
    )
  }
  const half = Math.round(loadOf(full[0] ?? []).requestsPerSecond.median / 2)
  const fixed = servers.map(() => [] as WrkRun[])
  for (let run = 1; run <= runs; run++) {
    for (const [i, server] of servers.entries()) fixed[i]?.push(await wrk(server, keys, seconds, half))
    say(
      `  http run ${run}: at ${half} req/s, p99 ${servers.map((s, i) => `${s.name} ${p99(fixed[i]?.at(-1))}`).join(', ')} ms`,
    )
  }
  const perSecond = (runs: WrkRun[]) => runs.map((r) => r.requests / (r.durationUs / 1e6))
  const bare = perSecond(full.at(-1) ?? [])
  return {
    rate: half,
    servers: servers.map((server, i) => ({
      name: server.name,
      saturation: loadOf(full[i] ?? []),
      half: loadOf(fixed[i] ?? []),
      vsBare: ratios(perSecond(full[i] ?? []), bare),
    })),
  }
}

/** saldo-api and the bare server side by side: the HTTP figure of the full report. */
export async function measureHttp(
  saldo: LoadTarget,
  bare: LoadTarget,
  keys: number,
  seconds: number,
  runs: number,
  say: (line: string) => void,
): Promise<Http> {
  const measured = await measureSideBySide(
    [
      { name: 'saldo', ...saldo },
      { name: 'bare', ...bare },
    ],
    keys,
    seconds,
    runs,
    say,
  )
  const [s, b] = measured.servers
  if (!s || !b) throw new Error('no HTTP figure was measured')
  return {
    keys,
    seconds,
    connections: CONNECTIONS,
    saturation: { saldo: s.saturation, bare: b.saturation, vsBare: s.vsBare },
    half: { rate: measured.rate, saldo: s.half, bare: b.half },
  }
}

const rate = (r: WrkRun | undefined) => (r ? Math.round(r.requests / (r.durationUs / 1e6)) : 0)
const p99 = (r: WrkRun | undefined) => (r ? (r.p99Us / 1000).toFixed(2) : '?')
