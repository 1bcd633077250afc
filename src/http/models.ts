import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { Balance } from '../balance.ts'
import { ReadyBody } from '../kafka/readiness.ts'
import { Progress } from '../kafka/replay-progress.ts'
import { Summary } from '../kafka/summary.ts'
import { Movement } from '../movements/movement.ts'
import { OwnershipStatus } from '../ownership/models.ts'

/**
 * Every error answer: one sentence saying what happened and what to do; while replaying, the progress;
 * where a position matters (a write not yet applied, a min_position not reached), that position.
 */
export const ErrorBody = Type.Object({
  error: Type.String(),
  progress: Type.Optional(Progress),
  position: Type.Optional(Type.String({ description: 'partition:offset[,partition:offset…]' })),
})
export type ErrorBody = Static<typeof ErrorBody>

/**
 * A 412 (the condition a write sent no longer holds) or a 422 (a debit would go below MIN_SALDO):
 * here is the balance as it is now.
 */
export const PreconditionFailedBody = Type.Object({
  error: Type.String(),
  saldo: Type.Union([Balance, Type.Null()], { description: 'the current balance, null when there is none' }),
})
export type PreconditionFailedBody = Static<typeof PreconditionFailedBody>

export const BalancesBody = Type.Object({
  balances: Type.Array(Balance),
  missing: Type.Array(Type.String(), { description: 'requested ids with no balance' }),
})
export type BalancesBody = Static<typeof BalancesBody>

/** The body of POST /saldos: GET /saldos' ids, without the URL's length limit or its encoding. */
export const IdsBody = Type.Object({
  ids: Type.Array(Type.String(), {
    description: 'cliente_id list (plain JSON strings), up to 1000 distinct',
  }),
})
export type IdsBody = Static<typeof IdsBody>

/** A write's answer: what was written and the position at which this instance applied it. */
export const WriteResult = Type.Object({ balance: Balance, position: Type.String() })
export type WriteResult = Static<typeof WriteResult>
export const DeleteResult = Type.Object({ deleted: Type.String(), position: Type.String() })
export type DeleteResult = Static<typeof DeleteResult>

/** A movement's answer: the movement and the balance it wrote; a retry with its key answers the same. */
export const MovementResult = Type.Object({ movimento: Movement, saldo: Balance })
export type MovementResult = Static<typeof MovementResult>

/** A client's recent movements, newest first. */
export const MovementsList = Type.Object({ cliente_id: Type.String(), movimentos: Type.Array(Movement) })
export type MovementsList = Static<typeof MovementsList>

export const HealthBody = Type.Object({ status: Type.Literal('ok'), uptimeSeconds: Type.Number() })

/** GET /ready: the apply path's readiness, and who owns which partition's writes. */
export const ReadyAnswer = Type.Composite([ReadyBody, Type.Object({ ownership: OwnershipStatus })])
export type ReadyAnswer = Static<typeof ReadyAnswer>

/** GET /stats: the apply path's numbers, and who owns which partition's writes. */
export const StatsBody = Type.Composite([Summary, Type.Object({ ownership: OwnershipStatus })])
export type StatsBody = Static<typeof StatsBody>

/** The media type of every JSON answer that a handler builds as text itself. */
export const JSON_CONTENT_TYPE = 'application/json'

/**
 * OpenAPI responses from TypeBox schemas, for a route whose answers Elysia does not validate: its
 * handler sends JSON it built from data validated on the way in (GET /saldo/:cliente_id). The same
 * schemas as a `response` option would give, without a clean and a check of every answer.
 */
export function documentedResponses(
  schemas: Record<number, TSchema>,
  headers: Record<number, Record<string, { description: string }>> = {},
) {
  return Object.fromEntries(
    Object.entries(schemas).map(([status, schema]) => [
      status,
      {
        description: schema.description ?? `HTTP ${status}`,
        content: { [JSON_CONTENT_TYPE]: { schema: schema as object } },
        ...(headers[Number(status)] ? { headers: stringHeaders(headers[Number(status)] ?? {}) } : {}),
      },
    ]),
  )
}

/** OpenAPI response headers, each a string. */
function stringHeaders(headers: Record<string, { description: string }>) {
  return Object.fromEntries(
    Object.entries(headers).map(([name, { description }]) => [
      name,
      { description, schema: { type: 'string' as const } },
    ]),
  )
}

/** What an ETag is, wherever one is answered. */
export const ETAG_HEADER = {
  ETag: { description: 'the version of the balance, "partition-offset" (strong); send it back in If-Match' },
}
