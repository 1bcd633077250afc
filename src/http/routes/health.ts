import { Elysia } from 'elysia'
import type { KafkaStatus } from '../../kafka/kafka-status.ts'
import type { ReplayProgress } from '../../kafka/replay-progress.ts'
import type { OwnershipSource } from '../../ownership/models.ts'
import type { BalanceStore } from '../../store/store.ts'
import { auth } from '../auth.ts'
import { HealthBody, ReadyBody } from '../models.ts'

export interface HealthRoutesDeps {
  store: BalanceStore
  progress: ReplayProgress
  kafkaStatus: () => KafkaStatus
  /** Who owns which partition's writes, as this instance knows it. */
  ownership: Pick<OwnershipSource, 'status'>
}

/**
 * Liveness (the process answers) and readiness (every partition replayed, and the store taking
 * batches), for load balancers.
 */
export function healthRoutes({ store, progress, kafkaStatus, ownership }: HealthRoutesDeps) {
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
        const kafka = kafkaStatus()
        const replay = progress.snapshot()
        const storeError = store.writeError
        const body: ReadyBody = {
          ...replay,
          ready: replay.ready && storeError === undefined,
          keys: store.size,
          loadedFromSnapshot: store.loadedFromSnapshot,
          kafka: { connected: kafka.connected, ...(kafka.lastError ? { lastError: kafka.lastError } : {}) },
          ...(storeError ? { storeError } : {}),
          warnings: kafka.warnings,
          ownership: ownership.status(),
        }
        return body.ready ? body : status(503, body)
      },
      {
        response: { 200: ReadyBody, 503: ReadyBody },
        access: 'open',
        detail: { summary: 'Readiness: 200 once every partition is replayed, with per-partition progress' },
      },
    )
}
