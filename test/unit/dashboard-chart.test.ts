import { describe, expect, it } from 'bun:test'
import { balanceChart, polylinePoints } from '../../src/http/dashboard/chart.ts'
import type { Movement } from '../../src/movements/movement.ts'

const BOX = { width: 320, height: 90, pad: 6 }

/** A movement of client 1, as the listing gives it. */
function movement(saldo_anterior: number | null, valor: number, minute: number): Movement {
  return {
    cliente_id: '1',
    valor,
    saldo_anterior,
    saldo: (saldo_anterior ?? 0) + valor,
    descricao: null,
    idempotency_key: `k-${minute}`,
    timestamp: `2026-12-02T18:${String(minute).padStart(2, '0')}:00.000Z`,
  }
}

describe('balanceChart', () => {
  it('draws the balance before the oldest movement, then after each, oldest on the left', () => {
    // Newest first, as GET /saldo/1/movimentos lists them: 100, +50 → 150, -120 → 30.
    const chart = balanceChart([movement(150, -120, 2), movement(100, 50, 1)], BOX)
    expect(chart.points.map((p) => p.saldo)).toEqual([100, 150, 30])
    expect(chart.points.map((p) => p.x)).toEqual([6, 160, 314])
    // The highest balance at the top of the box, the lowest at the bottom; y grows downwards.
    expect(chart.points.map((p) => p.y)).toEqual([38.5, 6, 84])
    expect(chart).toMatchObject({ lowest: 30, highest: 150 })
    expect(chart.points[0]?.timestamp).toBe('2026-12-02T18:01:00.000Z')
    expect(polylinePoints(chart.points)).toBe('6,38.5 160,6 314,84')
  })

  it('starts at the first balance when a credit created the client (no balance before it)', () => {
    const chart = balanceChart([movement(10, 5, 2), movement(null, 10, 1)], BOX)
    expect(chart.points.map((p) => p.saldo)).toEqual([10, 15])
  })

  it('puts a single balance, and a flat line, in the middle; nothing for no movement', () => {
    const single = balanceChart([movement(null, 42, 1)], BOX)
    expect(single.points.map(({ x, y }) => [x, y])).toEqual([[160, 45]])
    // A credit that created the client with 10, a PUT of 0, a credit of 10: 10 and 10.
    const flat = balanceChart([movement(0, 10, 2), movement(null, 10, 1)], BOX)
    expect(flat.points.map(({ x, y }) => [x, y])).toEqual([
      [6, 45],
      [314, 45],
    ])
    expect(balanceChart([], BOX)).toEqual({ points: [], lowest: 0, highest: 0 })
    expect(polylinePoints([])).toBe('')
  })

  it('adds one point per new movement', () => {
    const older = [movement(100, 50, 1)]
    const newer = [movement(150, -20, 2), ...older]
    expect(balanceChart(newer, BOX).points.length).toBe(balanceChart(older, BOX).points.length + 1)
  })
})
