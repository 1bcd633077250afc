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
 * Pure helpers of dashboard.ts, in files of their own so that unit tests can import them. They go
 * into the page's one script before dashboard.ts, their `export`s dropped, as if written in it.
 */
const HELPERS = ['chart.ts']

/**
 * The JavaScript of one file for the page's script, without types, with the imports of HELPERS
 * removed (their code is in the same script). Any other import is refused: the script is not
 * bundled, so the browser could not resolve it.
 */
function browserCode(transpiler: Bun.Transpiler, name: string): string {
  let code = transpiler.transformSync(read(name))
  const imports = transpiler.scanImports(code).map((found) => found.path)
  const others = imports.filter((path) => !HELPERS.includes(path.replace(/^\.\//, '')))
  if (others.length > 0) {
    throw new Error(
      `${name} imports ${others.join(', ')}; it runs in the browser unbundled: import types only`,
    )
  }
  for (const helper of HELPERS) {
    code = code.replace(
      new RegExp(`^import \\{[^}]*\\} from "\\./${helper.replace('.', '\\.')}";\\n`, 'm'),
      '',
    )
  }
  if (HELPERS.includes(name)) code = code.replace(/^export /gm, '')
  if (/^\s*(import|export)\b/m.test(code))
    throw new Error(`${name}: an import or export is left in the page's script`)
  return code
}

/**
 * The dashboard as one HTML document. A Bun macro (imported `with { type: 'macro' }`): it runs when
 * the server's code is transpiled or bundled, so `bun build --compile` puts the finished page in the
 * binary. It strips the types of the script and its helpers, inlines script and style, and builds a Content-Security-Policy
 * that allows exactly those two (by hash) and requests to the page's own origin, nothing else.
 */
export function dashboardPage(): DashboardPage {
  const transpiler = new Bun.Transpiler({ loader: 'ts', target: 'browser' })
  const script = [...HELPERS, 'dashboard.ts'].map((name) => browserCode(transpiler, name)).join('\n')
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
