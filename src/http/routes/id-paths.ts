import { Elysia } from 'elysia'
import { bearerGuard } from '../auth.ts'
import { refuseIdPath } from '../ids.ts'

/**
 * /saldo, /saldo/ and /saldo/a/b name no single client: 400 on every method of /saldo/{cliente_id},
 * with the same sentence, after the token check. Without these, GET /saldo would be a 400 and
 * PUT /saldo a 404, and a raw `\` (which the URL turns into `/`) would reach another route.
 */
export function idPathRoutes(apiToken: string | undefined) {
  let routes = new Elysia().onTransform(bearerGuard(apiToken))
  for (const path of ['/saldo', '/saldo/*']) {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      routes = routes.route(method, path, ({ request }) => refuseIdPath(request), {
        parse: 'none',
        detail: { hide: true },
      })
    }
  }
  return routes
}
