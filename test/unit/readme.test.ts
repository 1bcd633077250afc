import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { withConfigTable } from '../../scripts/readme-config.ts'
import { configVariables } from '../../src/config-doc.ts'

const readme = await Bun.file(join(import.meta.dir, '../../README.md')).text()

describe('README.md', () => {
  it('has every variable of the Config schema in its configuration table', () => {
    for (const { name } of configVariables()) expect(readme).toMatch(new RegExp(`^\\| \`${name}\` +\\|`, 'm'))
  })

  it('has the configuration table exactly as the schema gives it (else: bun run docs:config)', () => {
    expect(withConfigTable(readme)).toBe(readme)
  })

  it('starts with a quick start of exactly two commands: start.sh to run, test.sh to test', () => {
    const quickStart = /## Quick start\n+```sh\n([^`]*)```/.exec(readme)?.[1] ?? ''
    const commands = quickStart.split('\n').filter((line) => line.trim() && !line.trim().startsWith('#'))
    expect(commands.map((line) => line.split(/\s+/)[0])).toEqual(['./scripts/start.sh', './scripts/test.sh'])
  })
})
