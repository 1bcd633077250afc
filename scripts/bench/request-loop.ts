import type { Load } from './report.ts'
import { percentile, spread } from './stats.ts'

/** One closed-loop load: answers, and the latency of each 2xx answer. */
export interface LoopRun {
  ok: number
  errors: number
  seconds: number
  latenciesMs: number[]
}

/**
 * `clients` callers, each sending its next request once the last one is answered, for `seconds`.
 * Closed loop on purpose: a write waits for its Kafka transaction, and callers of an API wait for
 * their answer; wrk's fixed-path GETs cannot carry a fresh Idempotency-Key per request.
 */
export async function closedLoop(
  clients: number,
  seconds: number,
  send: () => Promise<Response>,
): Promise<LoopRun> {
  const run: LoopRun = { ok: 0, errors: 0, seconds, latenciesMs: [] }
  const started = performance.now()
  const end = started + seconds * 1000
  const client = async () => {
    while (performance.now() < end) {
      const sent = performance.now()
      const status = await send().then(
        async (response) => {
          await response.arrayBuffer()
          return response.status
        },
        () => 0,
      )
      if (status >= 200 && status < 300) {
        run.ok++
        run.latenciesMs.push(performance.now() - sent)
      } else run.errors++
    }
  }
  await Promise.all(Array.from({ length: clients }, client))
  run.seconds = (performance.now() - started) / 1000
  return run
}

/** The runs of one closed-loop load as the report's Load: 2xx answers per second, their p50 and p99. */
export function loopLoad(runs: readonly LoopRun[]): Load {
  const latency = (r: LoopRun, p: number) => (r.latenciesMs.length > 0 ? percentile(r.latenciesMs, p) : 0)
  return {
    requestsPerSecond: spread(runs.map((r) => r.ok / r.seconds)),
    p50Ms: spread(runs.map((r) => latency(r, 50))),
    p99Ms: spread(runs.map((r) => latency(r, 99))),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
  }
}
