import { Elysia, t } from 'elysia'
import { Balance } from '../../balance.ts'
import type { PositionWatch } from '../../store/position-watch.ts'
import type { BalanceStore } from '../../store/store.ts'
import { auth } from '../auth.ts'
import { ApiError, answerError, CLIENT_NOT_FOUND } from '../errors.ts'
import { distinctIds, MAX_IDS_PER_REQUEST, pathId, queryIds, refuseIdPath } from '../ids.ts'
import {
  BalancesBody,
  documentedResponses,
  ErrorBody,
  ETAG_HEADER,
  IdsBody,
  JSON_CONTENT_TYPE,
} from '../models.ts'
import type { PartitionedReads } from '../partitioned-reads.ts'
import { readBalances } from '../read-balances.ts'
import { POSITION_HEADER, type StateAccess } from '../state-access.ts'

export interface BalanceRoutesDeps {
  store: BalanceStore
  watch: PositionWatch
  access: StateAccess
  apiToken: string | undefined
  maxBodyBytes: number
  /** MODE=partitioned: keys of other instances' partitions are asked of them; undefined in replica mode. */
  partitioned?: PartitionedReads
}

export const MinPosition = t.Optional(
  t.String({ description: 'wait (bounded) until this instance reached this position, e.g. 0:42,1:17' }),
)
const ManyResponses = { 200: BalancesBody, 400: ErrorBody, 401: ErrorBody, 503: ErrorBody }
export const NOT_FOUND_BODY: ErrorBody = Object.freeze({ error: CLIENT_NOT_FOUND })
/** The route of one client's balance; the native read (native-read.ts) serves its usual GET. */
export const BALANCE_ROUTE = '/saldo/:cliente_id'
type AnswerSet = { headers: Record<string, unknown>; status?: number | string }
interface OneContext {
  path: string
  query: { min_position?: string }
  request: Request
  set: AnswerSet
}

/**
 * The answer of GET /saldo/:cliente_id once the id is read and the store may answer: the balance or
 * the 404 body, with its status and headers onto `set`, for `Response.json`. The native read
 * (native-read.ts) gives the same answer with headers of its own, and native-read.test.ts compares the
 * two answer by answer. An object, not JSON text built from the table:
 * with text, each young collection of the GC paused twice as long under load and the p99 doubled
 * (README, tuning notes), and the balance was validated when it was applied.
 */
export function balanceAnswer(store: Pick<BalanceStore, 'answer'>, watch: Pick<PositionWatch, 'text'>) {
  return (id: string, set: AnswerSet): Balance | ErrorBody => {
    set.headers[POSITION_HEADER] = watch.text
    set.headers['content-type'] = JSON_CONTENT_TYPE
    const answer = store.answer(id)
    if (answer) {
      set.headers.etag = answer.etag
      return answer.balance
    }
    set.status = 404
    return NOT_FOUND_BODY
  }
}

/** Reads of balances. Each answer carries the position it reflects in X-Saldo-Position. */
export function balanceRoutes({
  store,
  watch,
  access,
  apiToken,
  maxBodyBytes,
  partitioned,
}: BalanceRoutesDeps) {
  const answerOne = balanceAnswer(store, watch)

  /** The answer of GET and POST /saldos, once the store is ready and has reached min_position. */
  const readReplica = async (
    ids: readonly string[],
    request: Request,
    query: { min_position?: string },
    headers: Record<string, unknown>,
  ) => {
    access.requireReady()
    await access.reach(request, query)
    headers[POSITION_HEADER] = watch.text
    return readBalances(store, ids)
  }

  /** GET /saldo/:cliente_id once min_position is reached; a 503 or 400 otherwise. */
  const answerLater = (reaching: Promise<void>, id: string, set: AnswerSet) => {
    // Elysia reads `set` when the handler returns: with no header and status 200 it would answer the
    // promise's value without looking at `set` again, so the status of an error would be lost.
    set.headers['content-type'] = JSON_CONTENT_TYPE
    return reaching.then(
      () => answerOne(id, set),
      (error: unknown) => {
        if (error instanceof ApiError) return answerError(error, set)
        throw error
      },
    )
  }

  // The hot path: synchronous unless a min_position is asked, and its answer is the balance as the
  // table holds it, with no response schema to check it against (it was validated when applied).
  // Elysia composes an async handler for a function whose source has `async`, `await`, or a call
  // right after `return` or `=>`: this one has none (the handler-source test pins it).
  const readOneReplica = ({ path, query, request, set }: OneContext) => {
    const id = pathId(path)
    access.requireReady()
    const reaching = access.reach(request, query)
    return reaching === undefined ? answerOne(id, set) : answerLater(reaching, id, set)
  }
  // MODE=partitioned: a handler of its own, so that replica mode's pays nothing for it.
  const readOnePartitioned = async ({ path, query, request, set }: OneContext) => {
    const id = pathId(path)
    return (partitioned as PartitionedReads).one(id, request, query, set, () => answerOne(id, set))
  }
  const readMany: typeof readReplica = partitioned
    ? async (ids, request, query, headers) => partitioned.many(ids, request, query, headers)
    : readReplica

  const reads = new Elysia()
    .use(auth(apiToken))
    .get(BALANCE_ROUTE, partitioned ? readOnePartitioned : readOneReplica, {
      access: 'token',
      params: t.Object({ cliente_id: t.String() }),
      query: t.Object({ min_position: MinPosition }),
      detail: {
        summary: 'The latest balance of one client',
        responses: documentedResponses(
          { 200: Balance, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 503: ErrorBody },
          { 200: ETAG_HEADER },
        ),
      },
    })
    .get(
      '/saldos',
      ({ query, request, set }) => {
        const ids = queryIds(request)
        if (!ids) throw new ApiError('bad_request', 'ids is missing; send /saldos?ids=1,2,3 or POST /saldos')
        return readMany(ids, request, query, set.headers)
      },
      {
        query: t.Object({
          ids: t.String({
            description: `comma-separated cliente_id list, each percent-encoded (a%2Cb is the id a,b), up to ${MAX_IDS_PER_REQUEST}; the request line and headers must fit in 16 KiB, so use POST /saldos for long lists`,
          }),
          min_position: MinPosition,
        }),
        access: 'token',
        response: ManyResponses,
        detail: { summary: 'The latest balances of many clients at once' },
      },
    )
    .post(
      '/saldos',
      ({ body, query, request, set }) => readMany(distinctIds(body.ids, 'json'), request, query, set.headers),
      {
        // Checked before the body is read: who may read, what it is and how big.
        access: { needs: 'token', jsonBody: { limitBytes: maxBodyBytes, shape: '{"ids": ["1", "2"]}' } },
        body: IdsBody,
        query: t.Object({ min_position: MinPosition }),
        response: { ...ManyResponses, 413: ErrorBody, 415: ErrorBody },
        detail: {
          summary:
            'The latest balances of many clients at once, the ids in the body (a read, like GET /saldos)',
        },
      },
    )
  // /saldo, /saldo/ and /saldo/a/b name no single client: one 400 on every method of
  // /saldo/{cliente_id}, after the token check above (GET /saldo was a 400 but PUT /saldo a 404).
  for (const pattern of ['/saldo', '/saldo/*']) {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      reads.route(method, pattern, ({ path }) => refuseIdPath(path), {
        access: 'token',
        parse: 'none',
        detail: { hide: true },
      })
    }
  }
  return reads
}
