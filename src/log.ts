import type { Config } from './config.ts'

export const LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type Level = (typeof LEVELS)[number]
export type Fields = Record<string, unknown>

export interface Logger {
  debug(msg: string, fields?: Fields): void
  info(msg: string, fields?: Fields): void
  warn(msg: string, fields?: Fields): void
  error(msg: string, fields?: Fields): void
  child(fields: Fields): Logger
}

type Sink = (line: string) => void

const stderrSink: Sink = (line) => process.stderr.write(`${line}\n`)

/** Errors carry their message and code; a bare Error serialises to {} in JSON. */
function plain(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }) }
  }
  return typeof value === 'bigint' ? value.toString() : value
}

function formatPretty(time: string, level: Level, msg: string, fields: Fields): string {
  const rest = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(plain(value))}`)
    .join(' ')
  return `${time.slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${msg}${rest ? ` ${rest}` : ''}`
}

/** One JSON object per line on stderr (stdout stays free for the producer's output). */
export function createLogger(
  options: Pick<Config, 'LOG_LEVEL' | 'LOG_FORMAT'>,
  base: Fields = {},
  sink: Sink = stderrSink,
): Logger {
  const threshold = LEVELS.indexOf(options.LOG_LEVEL)
  const write = (level: Level, msg: string, fields: Fields = {}) => {
    if (LEVELS.indexOf(level) < threshold) return
    const time = new Date().toISOString()
    const all = { ...base, ...fields }
    sink(
      options.LOG_FORMAT === 'pretty'
        ? formatPretty(time, level, msg, all)
        : JSON.stringify({ time, level, msg, ...all }, (_key, value) => plain(value)),
    )
  }
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (fields) => createLogger(options, { ...base, ...fields }, sink),
  }
}
