import type { Balance } from '../balance.ts'
import { addMoney } from './money.ts'
import type { Movement, MovementBody } from './movement.ts'

export interface MovementRequest {
  clienteId: string
  body: MovementBody
  idempotencyKey: string
  /** The movement's time, and the new balance's. */
  timestamp: string
}

export type Decision =
  | { kind: 'apply'; balance: Balance; movement: Movement }
  /** A debit of a client with no balance. */
  | { kind: 'not_found' }
  /** A debit that would leave the balance below the floor; `saldo` is the balance as it is. */
  | { kind: 'below_floor'; saldo: Balance; would: number }

/**
 * What a movement does to a balance (`current`, undefined: the client has none), as a pure function:
 * - a credit (valor > 0) always applies, and creates the client when it has no balance
 *   (saldo_anterior null). It is never refused for the floor: it can only raise the balance, and a
 *   client already below it (set there by a PUT) must be able to come back;
 * - a debit (valor < 0) of a client with no balance is not_found (the API's 404);
 * - a debit whose result is below `floor` (MIN_SALDO) is below_floor (the API's 422);
 * - the new saldo is saldo_anterior + valor as a decimal sum (money.ts).
 * The valor was checked before (valorProblem); the Idempotency-Key too (the index says whether it is new).
 */
export function decideMovement(
  current: Balance | undefined,
  request: MovementRequest,
  floor: number,
): Decision {
  const { clienteId, body, idempotencyKey, timestamp } = request
  const debit = body.valor < 0
  if (debit && current === undefined) return { kind: 'not_found' }
  const saldo = current === undefined ? body.valor : addMoney(current.saldo, body.valor)
  if (debit && current !== undefined && saldo < floor)
    return { kind: 'below_floor', saldo: current, would: saldo }
  return {
    kind: 'apply',
    balance: { cliente_id: clienteId, saldo, timestamp },
    movement: {
      cliente_id: clienteId,
      valor: body.valor,
      saldo_anterior: current?.saldo ?? null,
      saldo,
      descricao: body.descricao ?? null,
      idempotency_key: idempotencyKey,
      timestamp,
    },
  }
}
