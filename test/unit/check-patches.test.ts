import { describe, expect, it } from 'bun:test'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { blobId, patchProblems } from '../../scripts/check-patches.ts'
import { tempDir } from '../helpers.ts'

const PATCHED = 'module.exports = "patched"\n'

/** A project whose package.json patches pkg@1.0.0's lib/a.js into PATCHED; node_modules holds `installed`. */
function project(installed: string | undefined): string {
  const root = tempDir('check-patches-')
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({ patchedDependencies: { 'pkg@1.0.0': 'p.patch' } }),
  )
  const blob = blobId(Buffer.from(PATCHED))
  writeFileSync(
    join(root, 'p.patch'),
    `diff --git a/lib/a.js b/lib/a.js\nindex 1234567..${blob} 100644\n--- a/lib/a.js\n+++ b/lib/a.js\n`,
  )
  mkdirSync(join(root, 'node_modules/pkg/lib'), { recursive: true })
  if (installed !== undefined) writeFileSync(join(root, 'node_modules/pkg/lib/a.js'), installed)
  return root
}

describe('check-patches', () => {
  it('gives the blob id git gives', () => {
    // git hash-object of an empty file and of "hello\n".
    expect(blobId(new Uint8Array())).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391')
    expect(blobId(Buffer.from('hello\n'))).toBe('ce013625030ba8dba906f756967f9e9ca394464a')
  })

  it('finds nothing when node_modules holds what the patch makes', () => {
    expect(patchProblems(project(PATCHED))).toEqual([])
  })

  it('names the file that differs and how to mend the install cache', () => {
    const [problem, ...more] = patchProblems(project(`${PATCHED}// edited in place\n`))
    expect(more).toEqual([])
    expect(problem).toContain('node_modules/pkg/lib/a.js is blob ')
    expect(problem).toContain(`p.patch makes blob ${blobId(Buffer.from(PATCHED))}`)
    expect(problem).toContain('~/.bun/install/cache/pkg@1.0.0*')
  })

  it('names a patched file missing from node_modules', () => {
    expect(patchProblems(project(undefined))).toEqual([expect.stringContaining('lib/a.js is missing')])
  })

  it('finds this checkout installed as its patches make it', () => {
    expect(patchProblems(join(import.meta.dir, '../..'))).toEqual([])
  })
})
