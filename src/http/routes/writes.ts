import { Elysia, t } from 'elysia'
import { type Balance as BalanceRecord, isIsoTimestamp } from '../../balance.ts'
import type { Placement } from '../../kafka/producer.ts'
import type { PositionWatch } from '../../store/position-watch.ts'
import type { BalanceStore } from '../../store/store.ts'
import type { TombstoneOutcomes } from '../../store/tombstone-outcomes.ts'
import { auth } from '../auth.ts'
import { ApiError, CLIENT_NOT_FOUND } from '../errors.ts'
import type { WriteForwarding } from '../forwarding.ts'
import { pathId } from '../ids.ts'
import { DeleteResult, ErrorBody, PreconditionFailedBody, WriteResult } from '../models.ts'
import { preconditions, unmet } from '../preconditions.ts'
import { POSITION_HEADER, type StateAccess } from '../state-access.ts'
import { appliedHere, writeError } from '../write-errors.ts'
import { MinPosition } from './balances.ts'

/**
 * Writes go to Kafka; the HTTP layer only knows this much of it. `check` (undefined: none) runs
 * against this instance's state once every earlier write of the key's partition through it was
 * applied, and refuses the write by throwing.
 */
export interface BalanceWrites {
  put(balance: BalanceRecord, check: (() => void) | undefined): Promise<Placement>
  delete(clienteId: string, check: (() => void) | undefined): Promise<Placement>
}

/** What every route that writes through Kafka needs (PUT and DELETE here, movements). */
export interface WritingRouteDeps {
  store: Pick<BalanceStore, 'get' | 'etag'>
  /** TOPIC's position: a write is applied here before the answer. */
  watch: PositionWatch
  access: StateAccess
  /** Sends a write for another instance's partition to that owner. */
  forward: Pick<WriteForwarding, 'toOwner'>
  apiToken: string | undefined
  writeWaitMs: number
  maxBodyBytes: number
  /** Said in the Retry-After of a 503 for a partition whose ownership is moving. */
  retryAfterSeconds: number
}

export interface WriteRoutesDeps extends WritingRouteDeps {
  outcomes: TombstoneOutcomes
  writer: BalanceWrites
}

/**
 * The conditions of a PUT or DELETE, for /openapi.json and the route's types. The handler parses
 * them from `request.headers` (preconditions.ts: a list of ETags, `*`, a 400 when malformed); a
 * route's `detail.parameters` is overwritten by the generated ones, so the schema is what documents them.
 */
const ConditionHeaders = t.Object({
  'if-match': t.Optional(
    t.String({
      description:
        'write only if the balance is still this ETag (from GET /saldo/{cliente_id}); * : only if it exists. Else 412',
    }),
  ),
  'if-none-match': t.Optional(
    t.String({ description: '* : write only if the client has no balance yet. Else 412' }),
  ),
})

const WriteBody = t.Object({
  saldo: t.Number({ description: 'the new balance; a finite number' }),
  timestamp: t.Optional(t.String({ description: 'ISO-8601; default: now' })),
})

/**
 * PUT and DELETE through Kafka with read-your-writes: the answer comes once this instance has applied
 * the written offset, and carries that position; a client may pass it as min_position to any instance.
 */
export function writeRoutes({
  store,
  watch,
  access,
  outcomes,
  writer,
  forward,
  apiToken,
  writeWaitMs,
  maxBodyBytes,
  retryAfterSeconds,
}: WriteRoutesDeps) {
  /** Produces, then waits until this instance has applied the offset (or answers 504 with the position). */
  const writeAndWait = async (
    write: () => Promise<Placement>,
  ): Promise<{ position: string; at: Placement }> => {
    const at = await write().catch((error: unknown) => {
      throw writeError(error, retryAfterSeconds)
    })
    return { position: await appliedHere(watch, at, writeWaitMs), at }
  }

  /** The check of the request's If-Match / If-None-Match (a 400 if malformed), or undefined without them. */
  const conditionOf = (id: string, request: Request): (() => void) | undefined => {
    const wanted = preconditions(request.headers)
    if (!wanted) return undefined
    return () => {
      const current = store.etag(id)
      const failed = unmet(wanted, current)
      if (failed === undefined) return
      throw new ApiError('precondition_failed', failed, {
        saldo: store.get(id) ?? null,
        headers: current === undefined ? {} : { etag: current },
      })
    }
  }

  return new Elysia()
    .use(auth(apiToken))
    .put(
      '/saldo/:cliente_id',
      async ({ path, body, request, set }) => {
        const id = pathId(path)
        const check = conditionOf(id, request)
        const timestamp = body.timestamp ?? new Date().toISOString()
        if (!isIsoTimestamp(timestamp)) {
          throw new ApiError(
            'bad_request',
            `timestamp ${JSON.stringify(timestamp)} is not ISO-8601 (e.g. 2025-10-14T10:30:45)`,
          )
        }
        // During the replay the write could not be seen applied in time; say so before writing it.
        access.requireReady()
        const balance = { cliente_id: id, saldo: body.saldo, timestamp }
        const { position, at } = await writeAndWait(() => writer.put(balance, check))
        set.headers[POSITION_HEADER] = watch.text
        set.headers.etag = `"${at.partition}-${at.offset}"`
        return { balance, position }
      },
      {
        // Checked before the body is read: who may write, what it is and how big.
        access: {
          needs: 'write',
          jsonBody: { limitBytes: maxBodyBytes, shape: '{"saldo": number, "timestamp"?: string}' },
        },
        // Once the token and the body are checked: a write another instance owns goes there.
        beforeHandle: async ({ path, body, request }) => {
          await forward.toOwner(request, pathId(path), body)
        },
        params: t.Object({ cliente_id: t.String() }),
        headers: ConditionHeaders,
        body: WriteBody,
        response: {
          200: WriteResult,
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
          412: PreconditionFailedBody,
          413: ErrorBody,
          415: ErrorBody,
          503: ErrorBody,
          504: ErrorBody,
        },
        detail: {
          summary: 'Set a balance through Kafka; answers once this instance has applied it',
        },
      },
    )
    .delete(
      '/saldo/:cliente_id',
      async ({ path, request, query, set, status }) => {
        const id = pathId(path)
        const check = conditionOf(id, request)
        access.requireReady()
        // What the client saw elsewhere comes first: a DELETE after a PUT through another instance.
        await access.reach(request, query)
        // The tombstone is always written; whether there was a balance is decided where it is
        // applied, in log order, not from this instance's view at the time of the request.
        const tombstone = outcomes.watch(id)
        try {
          const { position, at } = await writeAndWait(() => writer.delete(id, check))
          set.headers[POSITION_HEADER] = watch.text
          if (tombstone.existedBefore(at.partition, at.offset) === false) {
            return status(404, { error: CLIENT_NOT_FOUND })
          }
          return { deleted: id, position }
        } finally {
          tombstone.close()
        }
      },
      {
        access: 'write',
        // A DELETE needs no body: it is never read, whatever it holds (Bun caps its size at MAX_BODY_BYTES).
        parse: 'none',
        beforeHandle: async ({ path, request }) => {
          await forward.toOwner(request, pathId(path))
        },
        params: t.Object({ cliente_id: t.String() }),
        headers: ConditionHeaders,
        query: t.Object({ min_position: MinPosition }),
        response: {
          200: DeleteResult,
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
          404: ErrorBody,
          412: PreconditionFailedBody,
          503: ErrorBody,
          504: ErrorBody,
        },
        detail: {
          summary: 'Delete a balance (a tombstone); answers once this instance has applied it',
        },
      },
    )
}
