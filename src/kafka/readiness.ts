import { type Static, Type } from '@sinclair/typebox'
import { KafkaConnection, KafkaStatus } from './kafka-status.ts'
import { Progress } from './replay-progress.ts'

/** GET /ready's body: the replay's progress, the store, and the link to Kafka. */
export const ReadyBody = Type.Composite([
  Progress,
  Type.Object({
    keys: Type.Integer(),
    loadedFromSnapshot: Type.Integer({ description: 'keys loaded from the local snapshot at boot' }),
    kafka: KafkaConnection,
    storeError: Type.Optional(
      Type.String({
        description:
          'why the local state cannot take batches (e.g. disk full); while set, this instance is not ready and reads answer 503',
      }),
    ),
    warnings: KafkaStatus.properties.warnings,
  }),
])
export type ReadyBody = Static<typeof ReadyBody>
