import { Elysia, t } from 'elysia'
import { type ChangeHub, TooManyClients } from '../../events/change-hub.ts'
import type { EVENT_SCHEMAS } from '../../events/models.ts'
import { auth } from '../auth.ts'
import { ApiError } from '../errors.ts'
import { queryIds } from '../ids.ts'
import { ErrorBody } from '../models.ts'

export interface EventRoutesDeps {
  events: Pick<ChangeHub, 'open'>
}

/** A client dropped for reading too slowly gets this long to read its error event, then is cut off. */
const DROPPED_CLIENT_GRACE_S = 10

const STREAM_DESCRIPTION = [
  'Server-Sent Events of the changes this instance applies, in order.',
  'Events: `change` (data: BalanceChanged), `delete` (data: BalanceDeleted),',
  '`reset` (data: StreamReset: the changes after your Last-Event-ID are no longer kept, reload what you show)',
  'and `error` (data: StreamError: you read too slowly, or not at all for EVENTS_STALL_TIMEOUT_MS; the stream ends).',
  'Comment lines are heartbeats. Reconnect with the Last-Event-ID header to resume without gaps.',
].join(' ')

/** Each event type of the stream, and the schema of its data under /openapi.json's components.schemas. */
const EVENT_DATA = {
  change: 'BalanceChanged',
  delete: 'BalanceDeleted',
  reset: 'StreamReset',
  error: 'StreamError',
} satisfies Record<string, keyof typeof EVENT_SCHEMAS>

/**
 * The body of a 200 in JSON Schema (OpenAPI 3.1's dialect): text whose events each carry, in their
 * data line, the JSON of their type's schema. contentSchema is how JSON Schema says "this text holds
 * JSON of that shape"; the references are what tools follow from the operation to the event schemas.
 */
const STREAM_SCHEMA = {
  type: 'string',
  description:
    'events separated by blank lines, each of `id:`, `event:` and `data:` lines; the data of each event type is JSON of its schema',
  anyOf: Object.entries(EVENT_DATA).map(([event, schema]) => ({
    title: `event: ${event}`,
    contentMediaType: 'application/json',
    contentSchema: { $ref: `#/components/schemas/${schema}` },
  })),
}

/** The stream (or the 503 when EVENTS_MAX_CLIENTS streams are open) of one /events request. */
function openStream(
  events: EventRoutesDeps['events'],
  options: Parameters<ChangeHub['open']>[0],
  retryAfterS: number,
) {
  try {
    return events.open(options)
  } catch (error) {
    if (!(error instanceof TooManyClients)) throw error
    throw new ApiError(
      'too_many_streams',
      `${error.message} (EVENTS_MAX_CLIENTS); retry after the Retry-After seconds, or use another instance`,
      // Closing the connection gives its descriptor back: streams are capped to save descriptors.
      { headers: { 'retry-after': String(retryAfterS), connection: 'close' } },
    )
  }
}

/** GET /events: the live change stream, fed by the change hub. */
/** The stream carries every balance, so it needs the bearer token like /saldo* when one is set. */
export function eventRoutes({ events }: EventRoutesDeps, apiToken: string | undefined, retryAfterS: number) {
  return new Elysia().use(auth(apiToken)).get(
    '/events',
    ({ headers, request, server }) => {
      const ids = queryIds(request)
      const stream = openStream(
        events,
        {
          ids: ids && new Set(ids),
          lastEventId: headers['last-event-id'],
          // A stuck client never reads its error event: let Bun's idle timeout close it, freeing its queue.
          onDrop: () => server?.timeout(request, DROPPED_CLIENT_GRACE_S),
        },
        retryAfterS,
      )
      // Bun closes connections idle for 10 s; a stream is quiet between changes and heartbeats.
      server?.timeout(request, 0)
      return new Response(stream, {
        headers: {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          // nginx and similar proxies would otherwise buffer the stream.
          'x-accel-buffering': 'no',
        },
      })
    },
    {
      query: t.Object({
        ids: t.Optional(
          t.String({ description: 'only the changes of these comma-separated cliente_id, up to 1000' }),
        ),
      }),
      headers: t.Object({
        'last-event-id': t.Optional(
          t.String({ description: 'the id of the last event received, to resume right after it' }),
        ),
      }),
      access: 'token',
      detail: {
        summary: 'Live stream of applied changes (Server-Sent Events)',
        description: STREAM_DESCRIPTION,
        responses: {
          200: {
            description: 'text/event-stream',
            content: {
              'text/event-stream': { schema: STREAM_SCHEMA as object },
            },
          },
          // TypeBox schemas are JSON Schema; the OpenAPI types just cannot see through optional properties.
          400: {
            description: 'a bad id in ids',
            content: { 'application/json': { schema: ErrorBody as object } },
          },
          401: {
            description: 'a token is configured and the request has not got it',
            content: { 'application/json': { schema: ErrorBody as object } },
          },
          503: {
            description: 'EVENTS_MAX_CLIENTS streams are open; retry after Retry-After seconds',
            content: { 'application/json': { schema: ErrorBody as object } },
          },
        },
      },
    },
  )
}
