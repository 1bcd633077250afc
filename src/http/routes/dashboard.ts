import { Elysia, t } from 'elysia'
import { auth } from '../auth.ts'
import { dashboardPage } from '../dashboard/page.ts' with { type: 'macro' }

// Built when this file is transpiled or bundled: a constant in the compiled binary.
const PAGE = dashboardPage()

/** GET /: the live dashboard; one self-contained page, served from the binary, that needs no network. */
export function dashboardRoutes() {
  return new Elysia().use(auth(undefined)).get(
    '/',
    ({ set }) => {
      set.headers['content-type'] = 'text/html; charset=utf-8'
      set.headers['content-security-policy'] = PAGE.contentSecurityPolicy
      return PAGE.html
    },
    {
      access: 'open',
      detail: {
        summary: 'The live dashboard: replay progress, counters, lookups, latest changes and writes',
        responses: {
          200: { description: 'the dashboard page', content: { 'text/html': { schema: t.String() } } },
        },
      },
    },
  )
}
