// The tools that read /openapi.json the way users' tools do: Redocly's linter and openapi-typescript.
// Both are pinned devDependencies, run with this Bun (no Node, no network: telemetry and update
// checks are off).
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { tempDir } from './helpers.ts'

const bin = (pkg: string, path: string) =>
  join(dirname(Bun.resolveSync(`${pkg}/package.json`, import.meta.dir)), path)
const QUIET = { REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true' }

async function run(command: string[], cwd?: string) {
  const proc = Bun.spawn(command, { cwd, env: { ...process.env, ...QUIET }, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  return { stdout, stderr, exitCode }
}

/** `document` written to a file of a fresh temp folder (removed after the test). */
export function writeDocument(document: string): string {
  const file = join(tempDir('saldo-openapi-'), 'openapi.json')
  writeFileSync(file, document)
  return file
}

export interface LintProblem {
  ruleId: string
  severity: 'error' | 'warn'
  message: string
  location: Array<{ pointer: string }>
}

/** `redocly lint` with its recommended rules; every problem it reports, errors and warnings. */
export async function redoclyLint(document: string): Promise<LintProblem[]> {
  const cli = bin('@redocly/cli', 'bin/cli.js')
  const { stdout, stderr } = await run([
    process.execPath,
    cli,
    'lint',
    '--extends=recommended',
    '--format=json',
    '--max-problems=1000',
    writeDocument(document),
  ])
  if (!stdout.trimStart().startsWith('{')) throw new Error(`redocly lint printed no report: ${stderr}`)
  return (JSON.parse(stdout) as { problems: LintProblem[] }).problems
}
