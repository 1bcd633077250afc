import type { TSchema } from '@sinclair/typebox'
import { Config } from './config.ts'

export type ConfigName = keyof Config

/** One environment variable as the Config schema documents it. */
export interface ConfigVariable {
  name: ConfigName
  /** The default as one would write it in .env; undefined when the variable is unset by default. */
  fallback: string | undefined
  /** What the setting does. */
  title: string
  /** What value is expected. */
  expected: string
}

/** Every variable of the Config schema, in the schema's order: the one source of --help and the README. */
export function configVariables(): ConfigVariable[] {
  return Object.entries(Config.properties as Record<ConfigName, TSchema>).map(([name, schema]) => ({
    name: name as ConfigName,
    fallback: schema.default === undefined ? undefined : String(schema.default),
    title: schema.title ?? '',
    expected: schema.description ?? '',
  }))
}

/** The variables `names` (all by default) as aligned text, for --help. */
export function configHelp(names?: readonly ConfigName[]): string {
  const chosen = configVariables().filter((v) => !names || names.includes(v.name))
  const width = Math.max(...chosen.map((v) => v.name.length))
  const lines = chosen.map((v) => {
    const fallback = v.fallback === undefined ? 'unset by default' : `default: ${v.fallback}`
    return `  ${v.name.padEnd(width)}  ${v.title}\n  ${' '.repeat(width)}  value: ${v.expected}; ${fallback}`
  })
  return [
    'Configuration: environment variables, or a .env file in the current folder (the environment wins).',
    ...lines,
  ].join('\n')
}

/** The README's configuration table, in Markdown, with aligned columns as the formatter (Biome) writes them. */
export function configMarkdownTable(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|')
  const rows = configVariables().map((v) => [
    `\`${v.name}\``,
    v.fallback === undefined ? '(unset)' : `\`${cell(v.fallback)}\``,
    cell(v.title),
    cell(v.expected),
  ])
  const header = ['variable', 'default', 'what it does', 'expected value']
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)))
  const line = (cells: string[]) => `| ${cells.map((text, i) => text.padEnd(widths[i] ?? 0)).join(' | ')} |`
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n')
}
