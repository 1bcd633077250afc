import { type Static, Type } from '@sinclair/typebox'
import { Balance, ClienteId } from '../balance.ts'

const Position = Type.String({
  pattern: '^\\d+:\\d+$',
  description:
    'partition:offset reached by applying this change (the record offset + 1), as X-Saldo-Position; usable as min_position',
  examples: ['0:43'],
})

/** `event: change`: a client's new balance. */
export const BalanceChanged = Type.Composite([Balance, Type.Object({ position: Position })], {
  description: 'event: change, a new balance for a client',
})
export type BalanceChanged = Static<typeof BalanceChanged>

/** `event: delete`: a tombstone removed the client. */
export const BalanceDeleted = Type.Object(
  { cliente_id: ClienteId, position: Position },
  { description: 'event: delete, a tombstone removed the client' },
)
export type BalanceDeleted = Static<typeof BalanceDeleted>

/** `event: reset`: the stream cannot resume from Last-Event-ID; the client should reload what it shows. */
export const StreamReset = Type.Object(
  { reason: Type.String() },
  { description: 'event: reset, changes were missed: reload the balances shown, then keep following' },
)
export type StreamReset = Static<typeof StreamReset>

/** `event: error`: the client fell too far behind and the stream ends. */
export const StreamError = Type.Object(
  { error: Type.String() },
  { description: 'event: error, the client fell too far behind; the stream ends' },
)
export type StreamError = Static<typeof StreamError>

/** The data of each event type of GET /events, for the API docs. */
export const EVENT_SCHEMAS = { BalanceChanged, BalanceDeleted, StreamReset, StreamError }
