import { type Static, Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { type Balance, ClienteId, clienteIdProblem, isIsoTimestamp } from '../balance.ts'

/**
 * The largest |valor|: its cents (valor × 100) stay exact integers in a double (under 2^53), so a sum
 * of two such amounts rounds back to the cent it should be.
 */
export const MAX_VALOR = 1e13
export const MAX_DESCRICAO = 200
/** What an Idempotency-Key may hold: visible ASCII, as a header carries it unchanged. */
export const MAX_IDEMPOTENCY_KEY = 128

/** The body of POST /saldo/:cliente_id/movimentos. */
export const MovementBody = Type.Object({
  valor: Type.Number({
    minimum: -MAX_VALOR,
    maximum: MAX_VALOR,
    description: `the amount: > 0 a credit, < 0 a debit; not 0, at most 2 decimal places (cents), |valor| ≤ ${MAX_VALOR}`,
  }),
  descricao: Type.Optional(
    Type.String({ maxLength: MAX_DESCRICAO, description: `free text, up to ${MAX_DESCRICAO} characters` }),
  ),
})
export type MovementBody = Static<typeof MovementBody>

/**
 * One record of MOVEMENTS_TOPIC (key = cliente_id), written in the same Kafka transaction as the
 * balance it produced: `{cliente_id, saldo, timestamp}` of this record is that balance record's value.
 * `valor` and `descricao` are the request's, so a retry with the same Idempotency-Key is compared
 * with them: no digest of the body is needed.
 */
export const Movement = Type.Object({
  cliente_id: ClienteId,
  valor: Type.Number({ description: 'the amount applied: > 0 a credit, < 0 a debit' }),
  saldo_anterior: Type.Union([Type.Number(), Type.Null()], {
    description: 'the balance before; null: the client had none (a credit that created it)',
  }),
  saldo: Type.Number({ description: 'the balance after' }),
  descricao: Type.Union([Type.String({ maxLength: MAX_DESCRICAO }), Type.Null()], {
    description: 'the request’s descricao, null without one',
  }),
  idempotency_key: Type.String({ minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY }),
  timestamp: Type.String({ description: 'ISO-8601 time of the movement, also the new balance’s' }),
})
export type Movement = Static<typeof Movement>

/** A movement's fields in one order, whatever object they come from: a replay's JSON is the first answer's. */
export function movementOf(m: Movement): Movement {
  return {
    cliente_id: m.cliente_id,
    valor: m.valor,
    saldo_anterior: m.saldo_anterior,
    saldo: m.saldo,
    descricao: m.descricao,
    idempotency_key: m.idempotency_key,
    timestamp: m.timestamp,
  }
}

/** The balance record a movement wrote. */
export const balanceAfter = (m: Movement): Balance => ({
  cliente_id: m.cliente_id,
  saldo: m.saldo,
  timestamp: m.timestamp,
})

/** Whether a request (same client and key) asks for what this movement did: same valor, same descricao. */
export const sameRequest = (m: Pick<Movement, 'valor' | 'descricao'>, body: MovementBody): boolean =>
  m.valor === body.valor && m.descricao === (body.descricao ?? null)

const checkMovement = TypeCompiler.Compile(Movement)

/** A record of MOVEMENTS_TOPIC as a movement, or why it is not one. Never throws. */
export function decodeMovement(
  key: Buffer | null,
  value: Buffer | null,
): { ok: true; movement: Movement } | { ok: false; problem: string } {
  const id = key?.toString('utf8')
  if (id === undefined || clienteIdProblem(id)) return { ok: false, problem: 'no usable key' }
  if (value === null) return { ok: false, problem: 'a null value (movements are never deleted by key)' }
  let parsed: unknown
  try {
    parsed = JSON.parse(value.toString('utf8'))
  } catch (error) {
    return { ok: false, problem: `not JSON: ${(error as Error).message}` }
  }
  if (!checkMovement.Check(parsed)) {
    const first = checkMovement.Errors(parsed).First()
    return { ok: false, problem: first ? `${first.path || '/'}: ${first.message}` : 'not a movement' }
  }
  if (parsed.cliente_id !== id) return { ok: false, problem: `key ${JSON.stringify(id)} ≠ cliente_id` }
  if (!isIsoTimestamp(parsed.timestamp)) return { ok: false, problem: 'timestamp is not ISO-8601' }
  return { ok: true, movement: movementOf(parsed) }
}
