import { Elysia, t } from 'elysia'
import { Balance, type Balance as BalanceRecord } from '../../balance.ts'
import type { PositionWatch } from '../../store/position-watch.ts'
import type { BalanceStore } from '../../store/store.ts'
import { bearerGuard } from '../auth.ts'
import { ApiError, CLIENT_NOT_FOUND } from '../errors.ts'
import { BalancesBody, ErrorBody } from '../models.ts'
import { POSITION_HEADER, pathId, type StateAccess, validId } from '../state-access.ts'

export interface BalanceRoutesDeps {
  store: BalanceStore
  watch: PositionWatch
  access: StateAccess
  apiToken: string | undefined
}

export const MAX_IDS_PER_REQUEST = 1000

export const MinPosition = t.Optional(
  t.String({ description: 'wait (bounded) until this instance reached this position, e.g. 0:42,1:17' }),
)

/** The distinct ids of a comma-separated `ids` parameter; a bad id or too many is a 400. */
export function parseIds(list: string): string[] {
  const ids = [...new Set(list.split(','))]
  if (ids.length > MAX_IDS_PER_REQUEST) {
    throw new ApiError('bad_request', `${ids.length} ids; ask for at most ${MAX_IDS_PER_REQUEST} per request`)
  }
  return ids.map(validId)
}

/** Reads of balances. Each answer carries the position it reflects in X-Saldo-Position. */
export function balanceRoutes({ store, watch, access, apiToken }: BalanceRoutesDeps) {
  return new Elysia()
    .onTransform(bearerGuard(apiToken))
    .get(
      '/saldo/',
      () => {
        throw new ApiError('bad_request', 'cliente_id is empty; use GET /saldo/{cliente_id}')
      },
      { response: { 400: ErrorBody }, detail: { hide: true } },
    )
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
      async ({ query, request, set }) => {
        const ids = parseIds(query.ids)
        access.requireReady()
        await access.reach(request, query)
        set.headers[POSITION_HEADER] = watch.text
        const balances: BalanceRecord[] = []
        const missing: string[] = []
        for (const id of ids) {
          const balance = store.get(id)
          if (balance) balances.push(balance)
          else missing.push(id)
        }
        return { balances, missing }
      },
      {
        query: t.Object({
          ids: t.String({ description: 'comma-separated cliente_id list, up to 1000' }),
          min_position: MinPosition,
        }),
        response: { 200: BalancesBody, 400: ErrorBody, 401: ErrorBody, 503: ErrorBody },
        detail: { summary: 'The latest balances of many clients at once' },
      },
    )
}
