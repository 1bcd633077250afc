// Checks that every file the patches of package.json's patchedDependencies touch is, in node_modules,
// the file the patch makes (its `index OLD..NEW` line names the git blob NEW). Called after each
// install by scripts/test.sh and scripts/build.sh (the bench's --baseline builds too).
//   bun scripts/check-patches.ts [ROOT]
//
// Why: on Linux Bun hardlinks node_modules to its install cache, so a file edited in node_modules
// edits the cached copy of the patched package, and every later install of the same patch (another
// checkout, a baseline build) gets the edit without a word. That once made a side-by-side benchmark
// compare a change with itself.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** The git blob id of `bytes`, as `git hash-object` gives it. */
export function blobId(bytes: Uint8Array): string {
  const hasher = new Bun.CryptoHasher('sha1')
  hasher.update(`blob ${bytes.length}\0`)
  hasher.update(bytes)
  return hasher.digest('hex')
}

/** Each file of a unified git diff and the blob it must become (`index OLD..NEW`). */
export function patchedFiles(patch: string): Array<{ path: string; blob: string }> {
  const files: Array<{ path: string; blob: string }> = []
  let path: string | undefined
  for (const line of patch.split('\n')) {
    const diff = /^diff --git a\/(\S+) b\/\S+$/.exec(line)
    if (diff) path = diff[1]
    const index = /^index [0-9a-f]+\.\.([0-9a-f]+)/.exec(line)
    if (index && path !== undefined) {
      files.push({ path, blob: index[1] as string })
      path = undefined
    }
  }
  return files
}

/** What differs from the patches in `root`'s node_modules, one sentence each; empty when all is as patched. */
export function patchProblems(root: string): string[] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    patchedDependencies?: Record<string, string>
  }
  const problems: string[] = []
  for (const [pkg, patchPath] of Object.entries(manifest.patchedDependencies ?? {})) {
    const name = pkg.slice(0, pkg.lastIndexOf('@'))
    for (const { path, blob } of patchedFiles(readFileSync(join(root, patchPath), 'utf8'))) {
      const file = join(root, 'node_modules', name, path)
      const found = existsSync(file) ? blobId(readFileSync(file)) : undefined
      if (found?.startsWith(blob)) continue
      problems.push(
        `node_modules/${name}/${path} is ${found === undefined ? 'missing' : `blob ${found}`}, where ${patchPath} makes blob ${blob}. ` +
          `If you edited it in node_modules, Bun's install cache was edited too (hardlinks): delete ` +
          `~/.bun/install/cache/${pkg}* and node_modules/${name}, then run bun install --frozen-lockfile. ` +
          'If you changed the patch, set its index line to the new file: git hash-object <file>.',
      )
    }
  }
  return problems
}

if (import.meta.main) {
  const problems = patchProblems(process.argv[2] ?? join(import.meta.dir, '..'))
  for (const problem of problems) console.error(problem)
  if (problems.length > 0) process.exit(1)
}
