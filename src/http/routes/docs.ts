import { Elysia, t } from 'elysia'
import { auth } from '../auth.ts'
// Bun's types call every .html import an HTMLBundle; imported as text it is the file's content, and
// `bun build --compile` embeds it in the binary.
import docsPage from '../docs/docs.html' with { type: 'text' }

const DOCS_PAGE = docsPage as unknown as string

// The page loads nothing from elsewhere: the browser is told to refuse it, so the docs work offline.
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'"

/** GET /docs: a page that reads /openapi.json and lets you try each route; served from the binary. */
export function docsRoutes() {
  return new Elysia().use(auth(undefined)).get(
    '/docs',
    ({ set }) => {
      set.headers['content-type'] = 'text/html; charset=utf-8'
      set.headers['content-security-policy'] = CONTENT_SECURITY_POLICY
      return DOCS_PAGE
    },
    {
      access: 'open',
      detail: {
        summary: 'Interactive API docs, generated from /openapi.json, with no network access',
        responses: {
          200: { description: 'the docs page', content: { 'text/html': { schema: t.String() } } },
        },
      },
    },
  )
}
