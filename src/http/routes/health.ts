import { Elysia } from 'elysia'
import type { ApplyNumbers } from '../../kafka/apply-numbers.ts'
import type { OwnershipSource } from '../../ownership/models.ts'
import { auth } from '../auth.ts'
import { HealthBody, ReadyAnswer } from '../models.ts'

export interface HealthRoutesDeps {
  /** The replay, the store and the link to Kafka, as /ready reports them. */
  numbers: Pick<ApplyNumbers, 'readiness'>
  /** Who owns which partition's writes, as this instance knows it. */
  ownership: Pick<OwnershipSource, 'status'>
}

/**
 * Liveness (the process answers) and readiness (every partition replayed, and the store taking
 * batches), for load balancers.
 */
export function healthRoutes({ numbers, ownership }: HealthRoutesDeps) {
  const startedAt = Date.now()
  return new Elysia()
    .use(auth(undefined))
    .get('/health', () => ({ status: 'ok' as const, uptimeSeconds: (Date.now() - startedAt) / 1000 }), {
      response: { 200: HealthBody },
      access: 'open',
      detail: { summary: 'Liveness: 200 while the process runs' },
    })
    .get(
      '/ready',
      ({ status }) => {
        const body = { ...numbers.readiness(), ownership: ownership.status() }
        return body.ready ? body : status(503, body)
      },
      {
        response: { 200: ReadyAnswer, 503: ReadyAnswer },
        access: 'open',
        detail: { summary: 'Readiness: 200 once every partition is replayed, with per-partition progress' },
      },
    )
}
