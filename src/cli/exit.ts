import { type Config, ConfigError, loadConfig } from '../config.ts'
import { UsageError } from './options.ts'

/** The command the arguments ask for; on bad arguments, the reason and the usage on stderr, exit 2. */
export function commandOrExit<T>(program: string, usage: string, parse: () => T): T {
  try {
    return parse()
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`${program}: ${error.message}\n\n${usage}\n`)
    process.exit(2)
  }
}

/** The settings from the environment and .env; on a bad value, what to fix on stderr, exit 2. */
export function configOrExit(program: string): Config {
  try {
    return loadConfig()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`${program}: ${error.message}\n`)
    process.exit(2)
  }
}
