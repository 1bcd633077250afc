// Pure helpers of the dashboard's script, in a file of their own so that unit tests can import them.
// page.ts inlines this file before dashboard.ts, in the same <script>: it may import types only.
import type { Movement } from '../../movements/movement.ts'

/** One balance of the chart, at its place in the drawing (SVG user units, y grows downwards). */
export interface ChartPoint {
  x: number
  y: number
  saldo: number
  timestamp: string
}

export interface BalanceChart {
  points: ChartPoint[]
  lowest: number
  highest: number
}

export interface ChartBox {
  width: number
  height: number
  /** Room kept free on every side, so that the dots at the edges are drawn whole. */
  pad: number
}

/**
 * The balance over a client's movements (newest first, as GET /saldo/:id/movimentos lists them),
 * oldest on the left: the balance before the oldest one (when the client had one), then the balance
 * after each. Points are evenly spaced rather than placed by time, so that a burst of movements
 * stays readable next to a quiet week; the times are in each point's label.
 */
export function balanceChart(movimentos: readonly Movement[], box: ChartBox): BalanceChart {
  const oldestFirst = [...movimentos].reverse()
  const balances: Array<{ saldo: number; timestamp: string }> = []
  const first = oldestFirst[0]
  if (first && first.saldo_anterior !== null) {
    balances.push({ saldo: first.saldo_anterior, timestamp: first.timestamp })
  }
  for (const m of oldestFirst) balances.push({ saldo: m.saldo, timestamp: m.timestamp })
  if (balances.length === 0) return { points: [], lowest: 0, highest: 0 }

  const saldos = balances.map((b) => b.saldo)
  const lowest = Math.min(...saldos)
  const highest = Math.max(...saldos)
  const innerWidth = box.width - 2 * box.pad
  const innerHeight = box.height - 2 * box.pad
  const step = balances.length > 1 ? innerWidth / (balances.length - 1) : 0
  const span = highest - lowest
  const points = balances.map(({ saldo, timestamp }, i) => ({
    // A single balance sits in the middle; a flat line too.
    x: round(balances.length > 1 ? box.pad + i * step : box.width / 2),
    y: round(span === 0 ? box.height / 2 : box.pad + ((highest - saldo) / span) * innerHeight),
    saldo,
    timestamp,
  }))
  return { points, lowest, highest }
}

/** The `points` attribute of an SVG polyline through `points`. */
export const polylinePoints = (points: readonly ChartPoint[]): string =>
  points.map(({ x, y }) => `${x},${y}`).join(' ')

const round = (n: number) => Math.round(n * 10) / 10
