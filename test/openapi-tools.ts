// The tools that read /openapi.json the way users' tools do: Redocly's linter and openapi-typescript.
// Both are pinned devDependencies, run with this Bun (no Node, no network: telemetry and update
// checks are off).
import { symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { runCommand, tempDir } from './helpers.ts'

const bin = (pkg: string, path: string) =>
  join(dirname(Bun.resolveSync(`${pkg}/package.json`, import.meta.dir)), path)
const QUIET = { REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true' }

const run = (command: string[], cwd?: string, env: Record<string, string> = {}) =>
  runCommand(command, { cwd, env: { ...QUIET, ...env } })

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

const ROOT = join(import.meta.dir, '..')

/**
 * A fresh TypeScript project (strict, Bun's types) with `paths` generated from `document` by
 * openapi-typescript in `saldo-api.ts`; its node_modules are this repository's, for openapi-fetch.
 */
export async function typedProject(document: string): Promise<string> {
  const dir = dirname(writeDocument(document))
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  const cli = bin('openapi-typescript', 'bin/cli.js')
  const generated = await run([process.execPath, cli, 'openapi.json', '--output', 'saldo-api.ts'], dir)
  if (generated.exitCode !== 0) throw new Error(`openapi-typescript failed: ${generated.stderr}`)
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'esnext',
        module: 'esnext',
        moduleResolution: 'bundler',
        allowImportingTsExtensions: true,
        types: ['bun'],
        // The libraries' declarations are not under test; the generated file is a .ts, so it is.
        skipLibCheck: true,
      },
    }),
  )
  return dir
}

/** `tsc --noEmit` in `dir`, with this repository's TypeScript: what it says, empty when it found nothing. */
export async function typecheck(dir: string): Promise<{ exitCode: number; output: string }> {
  const { stdout, stderr, exitCode } = await run(
    [process.execPath, bin('typescript', 'bin/tsc'), '-p', dir],
    dir,
  )
  return { exitCode, output: `${stdout}${stderr}`.trim() }
}

/** Runs `file` of `dir` with Bun and `env`; resolves with what it printed (it must exit 0). */
export async function runScript(dir: string, file: string, env: Record<string, string>): Promise<string> {
  const { stdout, stderr, exitCode } = await run([process.execPath, file], dir, env)
  if (exitCode !== 0) throw new Error(`${file} exited ${exitCode}: ${stderr}`)
  return stdout
}
