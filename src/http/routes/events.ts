import { Elysia, t } from 'elysia'
import type { ChangeHub } from '../../events/change-hub.ts'
import { bearerGuard } from '../auth.ts'
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
  'and `error` (data: StreamError: you read too slowly, the stream ends).',
  'Comment lines are heartbeats. Reconnect with the Last-Event-ID header to resume without gaps.',
].join(' ')

/** GET /events: the live change stream, fed by the change hub. */
/** The stream carries every balance, so it needs the bearer token like /saldo* when one is set. */
export function eventRoutes({ events }: EventRoutesDeps, apiToken: string | undefined) {
  return new Elysia().onTransform(bearerGuard(apiToken)).get(
    '/events',
    ({ headers, request, server }) => {
      const ids = queryIds(request)
      // Bun closes connections idle for 10 s; a stream is quiet between changes and heartbeats.
      server?.timeout(request, 0)
      const stream = events.open({
        ids: ids && new Set(ids),
        lastEventId: headers['last-event-id'],
        // A stuck client never reads its error event: let Bun's idle timeout close it, freeing its queue.
        onDrop: () => server?.timeout(request, DROPPED_CLIENT_GRACE_S),
      })
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
      detail: {
        summary: 'Live stream of applied changes (Server-Sent Events)',
        description: STREAM_DESCRIPTION,
        responses: {
          200: {
            description: 'text/event-stream',
            content: {
              'text/event-stream': {
                schema: t.String({ description: 'change, delete, reset and error events' }),
              },
            },
          },
          // TypeBox schemas are JSON Schema; the OpenAPI types just cannot see through optional properties.
          400: {
            description: 'a bad id in ids',
            content: { 'application/json': { schema: ErrorBody as object } },
          },
        },
      },
    },
  )
}
