import { type ConfigName, configHelp } from '../config-doc.ts'
import { type Input, readClienteId, readPositiveInteger, readSaldo, readValor } from './balance-input.ts'
import { type OptionTable, optionsHelp, parseOptions, UsageError } from './options.ts'

/** What saldo-produce was asked to do. */
export type ProduceCommand =
  | { mode: 'help' }
  | { mode: 'demo' }
  | { mode: 'create-topic' }
  | { mode: 'interactive' }
  | { mode: 'set'; clienteId: string; saldo: number }
  | { mode: 'delete'; clienteId: string }
  | { mode: 'bulk'; count: number; keys: number; rate: number | undefined }
  /** Through the API (`api`, else SALDO_API_URL): valor > 0 a credit, < 0 a debit. */
  | { mode: 'movement'; clienteId: string; valor: number; api: string | undefined }

/** Every option of saldo-produce; the usage text is made from this table. */
export const PRODUCE_OPTIONS = {
  '--interactive': {
    params: [],
    help: 'ask for cliente_id and saldo at a prompt, send, repeat; `exit` or end of input stops.\nWorks in a terminal and through a pipe (one value per line).',
  },
  '--set': { params: ['ID', 'SALDO'], help: 'send one balance: cliente_id ID, saldo SALDO (e.g. 150.5)' },
  '--delete': {
    params: ['ID'],
    help: 'send a tombstone (null value): the API answers 404 for ID afterwards',
  },
  '--count': {
    params: ['N'],
    help: 'send N generated balances in batches, with a progress bar on a terminal',
  },
  '--keys': { params: ['K'], with: '--count', help: 'with --count: spread them over ids 1..K (default N)' },
  '--rate': { params: ['R'], with: '--count', help: 'with --count: at most R records per second' },
  '--credit': {
    params: ['ID', 'VALOR'],
    help: 'add VALOR (e.g. 10.50) to the balance of ID through the API (POST /saldo/ID/movimentos),\nwith an Idempotency-Key: retried with the same key on timeouts and 5xx, applied once',
  },
  '--debit': {
    params: ['ID', 'VALOR'],
    help: 'take VALOR from the balance of ID through the API, likewise; refused below MIN_SALDO',
  },
  '--api': {
    params: ['URL'],
    with: ['--credit', '--debit'],
    help: 'with --credit or --debit: the saldo-api to send it to (default SALDO_API_URL)',
  },
  '--create-topic': { params: [], help: 'only create the compacted topic if it is missing' },
  '--help': { params: [], help: 'show this help and the configuration variables' },
} as const satisfies OptionTable

const MODES = [
  '--interactive',
  '--set',
  '--delete',
  '--credit',
  '--debit',
  '--count',
  '--create-topic',
] as const

export function produceUsage(): string {
  return [
    'usage: saldo-produce [--interactive | --set ID SALDO | --delete ID | --count N [--keys K] [--rate R]',
    '                      | --credit ID VALOR [--api URL] | --debit ID VALOR [--api URL]',
    '                      | --create-topic | --help]',
    '',
    'Writes balances to the Kafka topic, key = cliente_id, value = {"cliente_id","saldo","timestamp"}',
    '(ISO-8601), acknowledged by all in-sync replicas. Creates the compacted topic when it is missing.',
    'Without options it sends the demo balances of clients 1..5. Prints the partition and offset of',
    'each record on stdout. --credit and --debit go through saldo-api instead, which checks the floor',
    '(MIN_SALDO) and writes the balance and the movement in one Kafka transaction.',
    '',
    optionsHelp(PRODUCE_OPTIONS),
  ].join('\n')
}

/** The settings saldo-produce reads: where the broker and topic are, and how to log. */
const PRODUCER_VARIABLES: readonly ConfigName[] = [
  'BOOTSTRAP_SERVERS',
  'TOPIC',
  'TOPIC_PARTITIONS',
  'TOPIC_REPLICATION_FACTOR',
  'KAFKA_CONNECT_TIMEOUT_MS',
  'KAFKA_SSL',
  'KAFKA_SSL_CA_FILE',
  'KAFKA_SSL_CERT_FILE',
  'KAFKA_SSL_KEY_FILE',
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'LOG_LEVEL',
  'LOG_FORMAT',
  'SALDO_API_URL',
  'SALDO_API_TOKEN',
]

/** The usage and the configuration variables saldo-produce reads. */
export function produceHelp(): string {
  return `${produceUsage()}\n\n${configHelp(PRODUCER_VARIABLES)}`
}

/** Where saldo-api answers: an http(s) URL. */
function readUrl(text: string): Input<string> {
  if (/^https?:\/\/\S+$/.test(text)) return { ok: true, value: text.replace(/\/+$/, '') }
  return { ok: false, problem: `--api ${JSON.stringify(text)} is not an http:// or https:// URL` }
}

function usable<T>(input: Input<T>): T {
  if (!input.ok) throw new UsageError(input.problem)
  return input.value
}

/** Turns the arguments into a command; throws a UsageError saying what is wrong. */
export function parseProduceArgs(argv: readonly string[]): ProduceCommand {
  // Help wins over anything else on the line, even arguments that would not parse.
  if (argv.includes('--help')) return { mode: 'help' }
  const options = parseOptions(argv, PRODUCE_OPTIONS)
  const modes = MODES.filter((mode) => options[mode])
  if (modes.length > 1) throw new UsageError(`choose one of ${modes.join(', ')}`)
  const mode = modes[0]
  if (!mode) return { mode: 'demo' }
  const [first = '', second = ''] = options[mode] ?? []
  switch (mode) {
    case '--create-topic':
      return { mode: 'create-topic' }
    case '--interactive':
      return { mode: 'interactive' }
    case '--set':
      return { mode: 'set', clienteId: usable(readClienteId(first)), saldo: usable(readSaldo(second)) }
    case '--delete':
      return { mode: 'delete', clienteId: usable(readClienteId(first)) }
    case '--credit':
    case '--debit': {
      const valor = usable(readValor(second))
      return {
        mode: 'movement',
        clienteId: usable(readClienteId(first)),
        valor: mode === '--credit' ? valor : -valor,
        api: options['--api'] ? usable(readUrl(options['--api'][0] ?? '')) : undefined,
      }
    }
    case '--count': {
      const count = usable(readPositiveInteger('--count', first))
      const keys = options['--keys']?.[0]
      const rate = options['--rate']?.[0]
      return {
        mode: 'bulk',
        count,
        keys: keys === undefined ? count : usable(readPositiveInteger('--keys', keys)),
        rate: rate === undefined ? undefined : usable(readPositiveInteger('--rate', rate)),
      }
    }
  }
}
