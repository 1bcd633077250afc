import { type Static, Type } from '@sinclair/typebox'

/** How the materializer's link to Kafka is doing, as /ready reports it. */
export const KafkaConnection = Type.Object({
  connected: Type.Boolean({ description: 'a fetch succeeded recently' }),
  lastError: Type.Optional(Type.String({ description: 'why Kafka could not be reached, while it cannot' })),
})

export const KafkaStatus = Type.Composite([
  KafkaConnection,
  Type.Object({
    warnings: Type.Array(Type.String(), {
      description:
        'what an operator should fix: a topic not compacted, a consumer group shared with another, replicas missing or out of sync, a partition without leader',
    }),
  }),
])
export type KafkaStatus = Static<typeof KafkaStatus>
