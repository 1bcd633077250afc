import { configHelp } from '../config-doc.ts'
import { type OptionTable, optionsHelp, parseOptions } from './options.ts'

export const API_OPTIONS = {
  '--help': { params: [], help: 'show this help and the configuration variables' },
} as const satisfies OptionTable

export function apiUsage(): string {
  return [
    'usage: saldo-api [--help]',
    '',
    'Replays the compacted Kafka topic of balances, then tails it, and serves the latest balance of',
    'every cliente_id over HTTP: GET /saldo/{cliente_id}, GET /saldos?ids=1,2,3, GET /health and',
    'GET /ready. Reads of balances answer 503 until the replay is complete.',
    '',
    optionsHelp(API_OPTIONS),
  ].join('\n')
}

/** The usage and every configuration variable. */
export function apiHelp(): string {
  return `${apiUsage()}\n\n${configHelp()}`
}

/** What saldo-api was asked to do; throws a UsageError on anything it does not take. */
export function parseApiArgs(argv: readonly string[]): { help: boolean } {
  return { help: parseOptions(argv, API_OPTIONS)['--help'] !== undefined }
}
