import { Elysia, t } from 'elysia'
import type { ConditionalWriter } from '../../kafka/conditional-writer.ts'
import { balanceMessage } from '../../kafka/producer.ts'
import { decideMovement } from '../../movements/decide.ts'
import { valorProblem } from '../../movements/money.ts'
import {
  balanceAfter,
  type Movement,
  MovementBody,
  movementOf,
  sameRequest,
} from '../../movements/movement.ts'
import { type MovementIndex, RECENT_PER_CLIENT } from '../../movements/movement-index.ts'
import type { PositionWatch } from '../../store/position-watch.ts'
import { auth } from '../auth.ts'
import { ApiError, CLIENT_NOT_FOUND } from '../errors.ts'
import { IDEMPOTENCY_KEY_HEADER, idempotencyKey } from '../idempotency-key.ts'
import { pathId } from '../ids.ts'
import { ErrorBody, MovementResult, MovementsList, PreconditionFailedBody } from '../models.ts'
import { POSITION_HEADER } from '../state-access.ts'
import { appliedHere, writeError } from '../write-errors.ts'
import type { WritingRouteDeps } from './writes.ts'

/** Writes of movements: the check-then-append section of the key's partition, one transaction each. */
export type MovementWrites = Pick<ConditionalWriter, 'transact'>

export interface MovementRoutesDeps extends WritingRouteDeps {
  index: MovementIndex
  /** MOVEMENTS_TOPIC's position in the index. */
  indexWatch: PositionWatch
  /** undefined: no transactional writer on this instance, so POST is not served (GET still is). */
  writer: MovementWrites | undefined
  topics: { balances: string; movements: string }
  minSaldo: number
}

const UNDER = '/movimentos'
const DEFAULT_LIMIT = 20

/** What a movement answered, kept while it runs so that a concurrent retry gets the same. */
interface Answer {
  body: MovementResult
  etag: string | undefined
  replayed: boolean
}

/**
 * POST and GET /saldo/:cliente_id/movimentos. A movement is decided in its partition's line, once this
 * instance applied its earlier appends there (balances and movements), so the balance it starts from
 * and the Idempotency-Keys it checks are current; it is written (the new balance on TOPIC, the
 * movement on MOVEMENTS_TOPIC) in one Kafka transaction, and answered once both are applied here.
 * A refusal (404, 422) writes nothing, so its retry is decided again against the balance of then.
 */
export function movementRoutes(deps: MovementRoutesDeps) {
  const { store, watch, index, indexWatch, access, writer, topics, minSaldo, writeWaitMs } = deps
  /** Per `cliente_id \n key`: the attempt still running, and the body it was sent with. */
  const running = new Map<string, { asked: Pick<Movement, 'valor' | 'descricao'>; answer: Promise<Answer> }>()

  /** 503 until the index has read the movements topic to the end seen at start: it knows every key. */
  const requireIndex = () => {
    if (index.ready) return
    throw new ApiError(
      'not_ready',
      `still reading the movements topic (${index.behind()}); retry after the Retry-After seconds`,
      { headers: { 'retry-after': String(deps.retryAfterSeconds) } },
    )
  }

  const conflict = (key: string, earlier: Pick<Movement, 'valor'>) =>
    new ApiError(
      'conflict',
      `Idempotency-Key ${JSON.stringify(key)} was used for another movement of this client (valor ${earlier.valor}); send a new key for a new movement`,
    )

  /** The answer of a movement already in the index. */
  const replay = (movement: Movement): Answer => {
    const balance = balanceAfter(movement)
    const current = store.get(movement.cliente_id)
    // The ETag of the balance it wrote, while that is still the balance: a later write has another one.
    const still = current?.saldo === balance.saldo && current.timestamp === balance.timestamp
    return {
      body: { movimento: movementOf(movement), saldo: balance },
      etag: still ? store.etag(movement.cliente_id) : undefined,
      replayed: true,
    }
  }

  const attempt = async (clienteId: string, key: string, body: MovementBody, write: MovementWrites) => {
    const timestamp = new Date().toISOString()
    const done = await write
      .transact(clienteId, () => {
        const earlier = index.find(clienteId, key)
        if (earlier) {
          if (!sameRequest(earlier, body)) throw conflict(key, earlier)
          return { records: [], result: earlier }
        }
        const request = { clienteId, body, idempotencyKey: key, timestamp }
        const decision = decideMovement(store.get(clienteId), request, minSaldo)
        if (decision.kind === 'not_found') throw new ApiError('not_found', CLIENT_NOT_FOUND)
        if (decision.kind === 'below_floor') {
          throw new ApiError(
            'below_floor',
            `the debit would leave a balance of ${decision.would}, below the floor of ${minSaldo} (MIN_SALDO); nothing was written`,
            { saldo: decision.saldo },
          )
        }
        const movement = { key: clienteId, value: JSON.stringify(decision.movement) }
        return {
          records: [
            { topic: topics.balances, message: balanceMessage(decision.balance) },
            { topic: topics.movements, message: movement },
          ],
          result: decision.movement,
        }
      })
      .catch((error: unknown) => {
        throw writeError(error, deps.retryAfterSeconds)
      })
    const [balanceAt, movementAt] = done.placements
    if (!balanceAt || !movementAt) return replay(done.result)
    await appliedHere(watch, balanceAt, writeWaitMs)
    if (!(await indexWatch.waitFor(new Map([[movementAt.partition, movementAt.offset + 1]]), writeWaitMs))) {
      throw new ApiError(
        'write_timeout',
        `written to Kafka but the movement is not applied here within ${writeWaitMs} ms; retry with the same Idempotency-Key`,
      )
    }
    return {
      body: { movimento: movementOf(done.result), saldo: balanceAfter(done.result) },
      etag: `"${balanceAt.partition}-${balanceAt.offset}"`,
      replayed: false,
    }
  }

  /** One attempt per client and key at a time: a retry that comes while it runs waits for its answer. */
  const once = (clienteId: string, key: string, body: MovementBody, write: MovementWrites) => {
    const slot = `${clienteId}\n${key}`
    const current = running.get(slot)
    if (current)
      return sameRequest(current.asked, body) ? current.answer : Promise.reject(conflict(key, current.asked))
    const answer = attempt(clienteId, key, body, write).finally(() => running.delete(slot))
    running.set(slot, { asked: { valor: body.valor, descricao: body.descricao ?? null }, answer })
    return answer
  }

  const routes = new Elysia().use(auth(deps.apiToken)).get(
    `/saldo/:cliente_id${UNDER}`,
    ({ path, query, set }) => {
      const id = pathId(path, UNDER)
      access.requireReady()
      requireIndex()
      const movimentos = index.recent(id, query.limit ?? DEFAULT_LIMIT)
      set.headers[POSITION_HEADER] = watch.text
      if (!movimentos && !store.get(id)) throw new ApiError('not_found', CLIENT_NOT_FOUND)
      return { cliente_id: id, movimentos: movimentos ?? [] }
    },
    {
      access: 'token',
      params: t.Object({ cliente_id: t.String() }),
      query: t.Object({
        limit: t.Optional(
          t.Integer({
            minimum: 1,
            maximum: RECENT_PER_CLIENT,
            description: `how many, newest first (default ${DEFAULT_LIMIT}; this instance keeps the last ${RECENT_PER_CLIENT} per client)`,
          }),
        ),
      }),
      response: { 200: MovementsList, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 503: ErrorBody },
      detail: { summary: "A client's recent credits and debits, newest first, from the movements topic" },
    },
  )
  if (!writer) return routes
  return routes.post(
    `/saldo/:cliente_id${UNDER}`,
    async ({ path, body, request, set }) => {
      const id = pathId(path, UNDER)
      const key = idempotencyKey(request.headers)
      const problem = valorProblem(body.valor)
      if (problem) throw new ApiError('bad_request', problem)
      access.requireReady()
      requireIndex()
      const answer = await once(id, key, body, writer)
      set.status = 201
      set.headers[POSITION_HEADER] = watch.text
      if (answer.etag) set.headers.etag = answer.etag
      if (answer.replayed) set.headers['idempotent-replayed'] = 'true'
      return answer.body
    },
    {
      access: {
        needs: 'write',
        jsonBody: { limitBytes: deps.maxBodyBytes, shape: '{"valor": number, "descricao"?: string}' },
      },
      // Once the token, the key and the body are checked: a movement another instance owns goes there,
      // with its Idempotency-Key, and the owner decides it.
      beforeHandle: async ({ path, body, request }) => {
        await deps.forward.toOwner(request, pathId(path, UNDER), body)
      },
      body: MovementBody,
      // For OpenAPI (a route with a path parameter gets no `detail.parameters`); read by idempotencyKey.
      headers: t.Object({ 'idempotency-key': t.String(IDEMPOTENCY_KEY_HEADER) }),
      response: {
        201: MovementResult,
        400: ErrorBody,
        401: ErrorBody,
        403: ErrorBody,
        404: ErrorBody,
        409: ErrorBody,
        413: ErrorBody,
        415: ErrorBody,
        422: PreconditionFailedBody,
        503: ErrorBody,
        504: ErrorBody,
      },
      detail: {
        summary:
          'Credit (valor > 0) or debit (valor < 0) a balance, once per Idempotency-Key; answers once applied here',
      },
    },
  )
}
