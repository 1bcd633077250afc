/** One command-line option: the values that follow it, what it does, and the option it modifies. */
export interface OptionSpec {
  /** Names of the values that follow the flag, e.g. ['ID', 'SALDO']; empty for a switch. */
  readonly params: readonly string[]
  readonly help: string
  /** A modifier only makes sense with this other option, or one of these (e.g. --keys with --count). */
  readonly with?: string | readonly string[]
}

export type OptionTable = Readonly<Record<`--${string}`, OptionSpec>>

/** The flags given, each with its values. */
export type ParsedOptions<T extends OptionTable> = { [K in keyof T]?: string[] }

/** Bad arguments: the message says which and why; the caller prints it with the usage and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/**
 * Reads `argv` against `table`. Every argument must be a known flag followed by its values; a flag
 * given twice, a missing value, or a modifier without the option it modifies is a UsageError.
 */
export function parseOptions<T extends OptionTable>(argv: readonly string[], table: T): ParsedOptions<T> {
  const parsed: Record<string, string[]> = {}
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string
    const spec = (table as OptionTable)[flag as `--${string}`]
    if (!spec) throw new UsageError(`unknown argument ${JSON.stringify(flag)}`)
    if (parsed[flag]) throw new UsageError(`${flag} is given twice`)
    const values = argv.slice(i + 1, i + 1 + spec.params.length)
    // A value may start with "-" (a negative saldo) but not be one of our flags.
    const missing = values.length < spec.params.length || values.some((value) => value in table)
    if (missing) throw new UsageError(`${flag} needs ${spec.params.join(' ')}`)
    parsed[flag] = values
    i += spec.params.length
  }
  for (const flag of Object.keys(parsed)) {
    const needs = (table as OptionTable)[flag as `--${string}`]?.with
    const either = typeof needs === 'string' ? [needs] : (needs ?? [])
    if (either.length > 0 && !either.some((option) => parsed[option]))
      throw new UsageError(`${flag} only goes with ${either.join(' or ')}`)
  }
  return parsed as ParsedOptions<T>
}

/** The table as aligned help lines: `  --set ID SALDO   sets one balance`. */
export function optionsHelp(table: OptionTable): string {
  const rows = Object.entries(table).map(([flag, spec]): [string, string] => [
    [flag, ...spec.params].join(' '),
    spec.help,
  ])
  const width = Math.max(...rows.map(([left]) => left.length))
  const indent = `\n${' '.repeat(width + 4)}`
  return rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help.replaceAll('\n', indent)}`).join('\n')
}
