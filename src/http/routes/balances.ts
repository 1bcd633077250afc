import { Elysia, t } from 'elysia'
import { Balance, type Balance as BalanceRecord, clienteIdProblem } from '../../balance.ts'
import type { ReplayProgress } from '../../kafka/replay-progress.ts'
import type { BalanceStore } from '../../store/store.ts'
import { ApiError, CLIENT_NOT_FOUND } from '../errors.ts'
import { BalancesBody, ErrorBody, NotReadyBody } from '../models.ts'

export interface BalanceRoutesDeps {
  store: BalanceStore
  progress: ReplayProgress
  retryAfterSeconds: number
}

export const MAX_IDS_PER_REQUEST = 1000

function validId(id: string): string {
  const problem = clienteIdProblem(id)
  if (problem)
    throw new ApiError('bad_request', `${problem}; send an id of 1 to 128 bytes without control characters`)
  return id
}

/** The distinct ids of a comma-separated `ids` parameter; a bad id or too many is a 400. */
export function parseIds(list: string): string[] {
  const ids = [...new Set(list.split(','))]
  if (ids.length > MAX_IDS_PER_REQUEST) {
    throw new ApiError('bad_request', `${ids.length} ids; ask for at most ${MAX_IDS_PER_REQUEST} per request`)
  }
  return ids.map(validId)
}

/** Reads of balances; they answer 503 until the replay is complete, so no key is reported missing early. */
export function balanceRoutes({ store, progress, retryAfterSeconds }: BalanceRoutesDeps) {
  const requireReady = () => {
    if (progress.ready) return
    throw new ApiError('not_ready', 'still replaying the topic; retry after the Retry-After seconds', {
      progress: progress.snapshot(),
      headers: { 'retry-after': String(retryAfterSeconds) },
    })
  }
  return new Elysia()
    .get(
      '/saldo/',
      () => {
        throw new ApiError('bad_request', 'cliente_id is empty; use GET /saldo/{cliente_id}')
      },
      { response: { 400: ErrorBody }, detail: { hide: true } },
    )
    .get(
      '/saldo/:cliente_id',
      ({ params, status }) => {
        const id = validId(params.cliente_id)
        requireReady()
        const balance = store.get(id)
        return balance ?? status(404, { error: CLIENT_NOT_FOUND })
      },
      {
        params: t.Object({ cliente_id: t.String() }),
        response: { 200: Balance, 400: ErrorBody, 404: ErrorBody, 503: NotReadyBody },
        detail: { summary: 'The latest balance of one client' },
      },
    )
    .get(
      '/saldos',
      ({ query }) => {
        const ids = parseIds(query.ids)
        requireReady()
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
        query: t.Object({ ids: t.String({ description: 'comma-separated cliente_id list, up to 1000' }) }),
        response: { 200: BalancesBody, 400: ErrorBody, 503: NotReadyBody },
        detail: { summary: 'The latest balances of many clients at once' },
      },
    )
}
