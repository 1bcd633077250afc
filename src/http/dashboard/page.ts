import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface DashboardPage {
  html: string
  contentSecurityPolicy: string
}

const read = (name: string) => readFileSync(join(import.meta.dir, name), 'utf8')
const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`

function inline(html: string, marker: string, element: string): string {
  if (!html.includes(marker)) throw new Error(`dashboard.html has no ${marker} to replace`)
  return html.replace(marker, () => element)
}

/**
 * The dashboard as one HTML document. A Bun macro (imported `with { type: 'macro' }`): it runs when
 * the server's code is transpiled or bundled, so `bun build --compile` puts the finished page in the
 * binary. It strips the script's types, inlines script and style, and builds a Content-Security-Policy
 * that allows exactly those two (by hash) and requests to the page's own origin, nothing else.
 */
export function dashboardPage(): DashboardPage {
  const transpiler = new Bun.Transpiler({ loader: 'ts', target: 'browser' })
  const script = transpiler.transformSync(read('dashboard.ts'))
  const imports = transpiler.scanImports(script).map((found) => found.path)
  if (imports.length > 0) {
    throw new Error(
      `dashboard.ts imports ${imports.join(', ')}; it runs in the browser unbundled: import types only`,
    )
  }
  const style = read('dashboard.css')
  for (const [name, text, tag] of [
    ['dashboard.ts', script, 'script'],
    ['dashboard.css', style, 'style'],
  ]) {
    if (text?.toLowerCase().includes(`</${tag}`))
      throw new Error(`${name} contains </${tag}, which would end it early`)
  }
  let html = inline(read('dashboard.html'), '<!-- dashboard.css -->', `<style>${style}</style>`)
  html = inline(html, '<!-- dashboard.js -->', `<script type="module">${script}</script>`)
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(style)}`,
    "connect-src 'self'",
    // The empty favicon (a data: URL) keeps the browser from asking for /favicon.ico.
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
  return { html, contentSecurityPolicy }
}
