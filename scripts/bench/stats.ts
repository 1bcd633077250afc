import type { Spread } from './report.ts'

/** The p-th percentile (0..100) of `values`, by the nearest-rank method. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values')
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number
}

/** min / median / max of the runs of one figure, keeping the runs themselves for the JSON. */
export function spread(runs: readonly number[]): Spread {
  if (runs.length === 0) throw new Error('a figure needs at least one run')
  const sorted = [...runs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
  return { min: sorted[0] as number, median, max: sorted[sorted.length - 1] as number, runs: [...runs] }
}

/** Run-by-run ratios of two figures measured in pairs (same run, back to back). */
export function ratios(numerators: readonly number[], denominators: readonly number[]): Spread {
  return spread(numerators.map((n, i) => n / (denominators[i] as number)))
}
