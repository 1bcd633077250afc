// Writes the configuration table of README.md from the Config schema (bun run docs:config), so the
// README can never disagree with what saldo reads. test/unit/readme.test.ts checks it is up to date.
import { join } from 'node:path'
import { configMarkdownTable } from '../src/config-doc.ts'

export const START = '<!-- config-table:start (bun run docs:config writes this table from src/config.ts) -->'
export const END = '<!-- config-table:end -->'

/** `readme` with the text between the markers replaced by the table. */
export function withConfigTable(readme: string): string {
  const from = readme.indexOf(START)
  const to = readme.indexOf(END)
  if (from < 0 || to < from) throw new Error(`README.md needs the markers ${START} and ${END}`)
  return `${readme.slice(0, from + START.length)}\n${configMarkdownTable()}\n${readme.slice(to)}`
}

if (import.meta.main) {
  const file = join(import.meta.dir, '../README.md')
  await Bun.write(file, withConfigTable(await Bun.file(file).text()))
}
