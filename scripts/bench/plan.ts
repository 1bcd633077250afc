import { join } from 'node:path'

/** What one bench run measures, and how much of it: `--quick` is the CI-sized run. */
export interface Plan {
  mode: 'full' | 'quick'
  /** Runs of every figure (min / median / max over them). */
  runs: number
  /** Distinct keys: the clean topic has one record per key; the dirty topic spreads over them. */
  keys: number
  /** Records of the dirty topic. */
  dirtyRecords: number
  httpSeconds: number
  freshnessSeconds: number
  /** Length of the failover load (the leader is killed a third of the way in, restarted at two thirds). */
  failoverSeconds: number
  /** Length of each load of the movements and partitioned phases. */
  clusterSeconds: number
  /** Updates per second of the freshness test. */
  freshnessRate: number
  /** Where report.md and report.json go. */
  outDir: string
  /** A git ref whose saldo-api is replayed side by side with this checkout's (tuning comparisons). */
  baseline: string | undefined
  /**
   * `http`: only GET /saldo/:id side by side (this checkout, the baseline, the bare server);
   * `movements` / `partitioned`: only that phase.
   */
  only: Only | undefined
  bootstrap: string
}

const ONLY = ['http', 'movements', 'partitioned'] as const
type Only = (typeof ONLY)[number]
const isOnly = (value: string): value is Only => (ONLY as readonly string[]).includes(value)

const USAGE = `usage: bun run bench [--quick] [--runs N] [--out DIR] [--baseline GIT_REF] [--only ${ONLY.join('|')}]`

export function parsePlan(args: readonly string[], root: string, bootstrap: string): Plan {
  const quick = args.includes('--quick')
  const plan: Plan = {
    mode: quick ? 'quick' : 'full',
    runs: quick ? 1 : 3,
    keys: quick ? 100_000 : 1_000_000,
    dirtyRecords: quick ? 1_000_000 : 10_000_000,
    httpSeconds: quick ? 3 : 10,
    freshnessSeconds: quick ? 5 : 30,
    failoverSeconds: quick ? 12 : 30,
    clusterSeconds: quick ? 1 : 10,
    freshnessRate: 1000,
    outDir: join(root, 'bench-results'),
    baseline: undefined,
    only: undefined,
    bootstrap,
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    const value = args[i + 1]
    if (arg === '--quick') continue
    if (arg === '--runs' && value && /^[1-9]\d*$/.test(value)) plan.runs = Number(value)
    else if (arg === '--out' && value) plan.outDir = value
    else if (arg === '--baseline' && value) plan.baseline = value
    else if (arg === '--only' && value && isOnly(value)) plan.only = value
    else throw new Error(`unexpected argument ${JSON.stringify(arg)}; ${USAGE}`)
    i++
  }
  return plan
}
