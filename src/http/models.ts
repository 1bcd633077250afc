import { type Static, Type } from '@sinclair/typebox'
import { Balance } from '../balance.ts'
import { Progress } from '../kafka/replay-progress.ts'

/** Every error answer: one sentence saying what happened and what to do. */
export const ErrorBody = Type.Object({ error: Type.String() })
export type ErrorBody = Static<typeof ErrorBody>

/** 503 while the topic is still being replayed. */
export const NotReadyBody = Type.Object({ error: Type.String(), progress: Progress })

export const BalancesBody = Type.Object({
  balances: Type.Array(Balance),
  missing: Type.Array(Type.String(), { description: 'requested ids with no balance' }),
})

export const HealthBody = Type.Object({ status: Type.Literal('ok'), uptimeSeconds: Type.Number() })

export const ReadyBody = Type.Composite([
  Progress,
  Type.Object({
    keys: Type.Integer(),
    loadedFromSnapshot: Type.Integer({ description: 'keys loaded from the local snapshot at boot' }),
    kafka: Type.Object({ connected: Type.Boolean(), lastError: Type.Optional(Type.String()) }),
    warnings: Type.Array(Type.String()),
  }),
])
export type ReadyBody = Static<typeof ReadyBody>
