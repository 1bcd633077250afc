import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

async function run(args: string[], cwd: string, what: string): Promise<void> {
  const proc = Bun.spawn(args, { cwd, stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  if (code !== 0)
    throw new Error(`${what} failed (${args.join(' ')} exited ${code}):\n${(err || out).slice(-2000)}`)
}

/**
 * The compiled saldo-api the bench runs: of this checkout as it is (`ref` undefined), or of a git ref,
 * exported with git archive and built with its own lockfile and patches (for side-by-side tuning runs).
 */
export async function buildApi(root: string, ref: string | undefined, outDir: string): Promise<string> {
  mkdirSync(outDir, { recursive: true })
  let source = root
  if (ref) {
    source = join(outDir, 'src')
    mkdirSync(source, { recursive: true })
    await run(
      ['bash', '-c', `git -C "${root}" archive "$1" | tar -x -C "${source}"`, '_', ref],
      root,
      `exporting ${ref}`,
    )
    await run(['bun', 'install', '--frozen-lockfile'], source, `installing the dependencies of ${ref}`)
  }
  await run([join(source, 'scripts/build.sh'), outDir], source, 'building saldo-api')
  return join(outDir, 'saldo-api')
}
