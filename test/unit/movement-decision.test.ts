import { describe, expect, it } from 'bun:test'
import type { Balance } from '../../src/balance.ts'
import { decideMovement } from '../../src/movements/decide.ts'
import { addMoney, valorProblem } from '../../src/movements/money.ts'

const at = '2026-12-02T18:00:00.000Z'
const balance = (saldo: number): Balance => ({ cliente_id: '7', saldo, timestamp: '2025-10-14T10:30:45' })
const request = (valor: number, descricao?: string) => ({
  clienteId: '7',
  body: descricao === undefined ? { valor } : { valor, descricao },
  idempotencyKey: 'k-1',
  timestamp: at,
})

describe('decideMovement', () => {
  // current saldo (undefined: no client), valor, floor → the new saldo, or the refusal
  const table: Array<[number | undefined, number, number, number | 'not_found' | 'below_floor']> = [
    [100, 50, 0, 150],
    [100, -30, 0, 70],
    [100, -100, 0, 0],
    [100, -100.01, 0, 'below_floor'],
    [100, -150, -50, -50],
    [100, -150.5, -50, 'below_floor'],
    [undefined, -1, 0, 'not_found'],
    [undefined, -1, -100, 'not_found'],
    [undefined, 25.5, 0, 25.5],
    // A credit is never refused for the floor, even where the result stays below it.
    [undefined, 10, 100, 10],
    [-42.75, 10, 0, -32.75],
    // A debit of a client already below the floor: refused, whatever the amount.
    [-42.75, -0.01, 0, 'below_floor'],
    [0.1, 0.2, 0, 0.3],
    [1.2345, 1, 0, 2.2345],
    [0.3, -0.1, 0.2, 0.2],
  ]
  for (const [current, valor, floor, expected] of table) {
    it(`${current ?? 'no client'} ${valor >= 0 ? '+' : ''}${valor} with floor ${floor} → ${expected}`, () => {
      const decision = decideMovement(
        current === undefined ? undefined : balance(current),
        request(valor),
        floor,
      )
      if (expected === 'not_found' || expected === 'below_floor') {
        expect(decision.kind).toBe(expected)
        if (decision.kind === 'below_floor') expect(decision.saldo).toEqual(balance(current as number))
        return
      }
      expect(decision).toEqual({
        kind: 'apply',
        balance: { cliente_id: '7', saldo: expected, timestamp: at },
        movement: {
          cliente_id: '7',
          valor,
          saldo_anterior: current ?? null,
          saldo: expected,
          descricao: null,
          idempotency_key: 'k-1',
          timestamp: at,
        },
      })
    })
  }

  it('keeps the descricao in the movement, and the balance record in the seed format', () => {
    const decision = decideMovement(balance(10), request(5, 'pix'), 0)
    if (decision.kind !== 'apply') throw new Error(decision.kind)
    expect(decision.movement.descricao).toBe('pix')
    expect(Object.keys(decision.balance)).toEqual(['cliente_id', 'saldo', 'timestamp'])
  })
})

describe('money', () => {
  it('sums short decimals exactly, with no binary-fraction residue', () => {
    let saldo = 0
    for (let i = 0; i < 1000; i++) saldo = addMoney(saldo, 0.1)
    expect(saldo).toBe(100)
    expect(addMoney(0.1, 0.2)).toBe(0.3)
    expect(addMoney(1e-7, 0.01)).toBe(0.0100001)
    expect(addMoney(9_999_999_999_999.99, 0.01)).toBe(10_000_000_000_000)
  })

  it('refuses a valor of 0 or with more than 2 decimal places', () => {
    expect(valorProblem(0)).toContain('valor is 0')
    expect(valorProblem(10.005)).toContain('more than 2 decimal places')
    expect(valorProblem(1e-7)).toContain('more than 2 decimal places')
    for (const fine of [0.01, -0.1, 10.25, 1e13, -5]) expect(valorProblem(fine)).toBeUndefined()
  })
})
