import { Elysia, t } from 'elysia'
import { Balance, type Balance as BalanceRecord } from '../../balance.ts'
import type { PositionWatch } from '../../store/position-watch.ts'
import type { BalanceStore } from '../../store/store.ts'
import { bearerAuth, bearerGuard } from '../auth.ts'
import { ApiError, CLIENT_NOT_FOUND } from '../errors.ts'
import { distinctIds, MAX_IDS_PER_REQUEST, pathId, queryIds, refuseIdPath } from '../ids.ts'
import { jsonParse } from '../json-body.ts'
import { BalancesBody, ErrorBody, IdsBody } from '../models.ts'
import { POSITION_HEADER, type StateAccess } from '../state-access.ts'

export interface BalanceRoutesDeps {
  store: BalanceStore
  watch: PositionWatch
  access: StateAccess
  apiToken: string | undefined
  maxBodyBytes: number
}

export const MinPosition = t.Optional(
  t.String({ description: 'wait (bounded) until this instance reached this position, e.g. 0:42,1:17' }),
)
const ManyResponses = { 200: BalancesBody, 400: ErrorBody, 401: ErrorBody, 503: ErrorBody }

/** Reads of balances. Each answer carries the position it reflects in X-Saldo-Position. */
export function balanceRoutes({ store, watch, access, apiToken, maxBodyBytes }: BalanceRoutesDeps) {
  const guard = bearerGuard(apiToken)

  /** The answer of GET and POST /saldos, once the store is ready and has reached min_position. */
  const readMany = async (
    ids: readonly string[],
    request: Request,
    query: { min_position?: string },
    headers: Record<string, unknown>,
  ) => {
    access.requireReady()
    await access.reach(request, query)
    headers[POSITION_HEADER] = watch.text
    const balances: BalanceRecord[] = []
    const missing: string[] = []
    for (const id of ids) {
      const balance = store.get(id)
      if (balance) balances.push(balance)
      else missing.push(id)
    }
    return { balances, missing }
  }

  const reads = new Elysia()
    .guard(bearerAuth(apiToken))
    .get(
      '/saldo/:cliente_id',
      async ({ query, request, set, status }) => {
        const id = pathId(request)
        access.requireReady()
        await access.reach(request, query)
        set.headers[POSITION_HEADER] = watch.text
        return store.get(id) ?? status(404, { error: CLIENT_NOT_FOUND })
      },
      {
        params: t.Object({ cliente_id: t.String() }),
        query: t.Object({ min_position: MinPosition }),
        response: { 200: Balance, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 503: ErrorBody },
        detail: { summary: 'The latest balance of one client' },
      },
    )
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
        response: ManyResponses,
        detail: { summary: 'The latest balances of many clients at once' },
      },
    )
    .post(
      '/saldos',
      ({ body, query, request, set }) => readMany(distinctIds(body.ids, 'json'), request, query, set.headers),
      {
        // Checked before the body is read: who may read, what it is and how big.
        parse: jsonParse(guard, maxBodyBytes, '{"ids": ["1", "2"]}'),
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
  for (const path of ['/saldo', '/saldo/*']) {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      reads.route(method, path, ({ request }) => refuseIdPath(request), {
        parse: 'none',
        detail: { hide: true },
      })
    }
  }
  return reads
}
