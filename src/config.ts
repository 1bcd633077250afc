import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

// Every setting saldo reads from the environment (Bun loads .env first; the environment wins).
// The description is what the error message says was expected.
const PositiveMs = (fallback: number) =>
  Type.Integer({ minimum: 1, maximum: 600_000, default: fallback, description: 'milliseconds, 1..600000' })
const Flag = (fallback: boolean) => Type.Boolean({ default: fallback, description: 'true or false' })
const Optional = (description: string) => Type.Optional(Type.String({ minLength: 1, description }))

export const Config = Type.Object({
  BOOTSTRAP_SERVERS: Type.String({
    default: 'localhost:9092',
    pattern: '^[^,:\\s]+:\\d{1,5}(,[^,:\\s]+:\\d{1,5})*$',
    description: 'a comma-separated list of host:port',
  }),
  TOPIC: Type.String({
    default: 'contas',
    pattern: '^[a-zA-Z0-9._-]{1,249}$',
    description: 'a Kafka topic name (letters, digits, . _ -)',
  }),
  GROUP: Type.String({
    default: 'consulta-saldo',
    minLength: 1,
    maxLength: 200,
    description: 'a consumer group prefix',
  }),
  INSTANCE_ID: Optional('a name for this instance (default: host name and process id)'),
  PORT: Type.Integer({
    default: 5000,
    minimum: 0,
    maximum: 65535,
    description: 'an integer 0..65535 (0 picks a free port)',
  }),
  HOST: Type.String({ default: '0.0.0.0', minLength: 1, description: 'an address to listen on' }),
  TOPIC_PARTITIONS: Type.Integer({
    default: 3,
    minimum: 1,
    maximum: 10_000,
    description: 'partitions for a topic saldo creates, 1..10000',
  }),
  TOPIC_REPLICATION: Type.Integer({
    default: 1,
    minimum: 1,
    maximum: 32,
    description: 'replication factor for a topic saldo creates, 1..32',
  }),
  STATE_DIR: Type.String({
    default: './data',
    minLength: 1,
    description: "a folder for the local snapshot, or 'memory' to keep no snapshot",
  }),
  LOG_LEVEL: Type.Union(
    [Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')],
    {
      default: 'info',
      description: 'debug, info, warn or error',
    },
  ),
  LOG_FORMAT: Type.Union([Type.Literal('json'), Type.Literal('pretty')], {
    default: 'json',
    description: 'json or pretty',
  }),
  PROGRESS_LOG_INTERVAL_MS: PositiveMs(5_000),
  RETRY_AFTER_S: Type.Integer({ default: 2, minimum: 1, maximum: 3600, description: 'seconds, 1..3600' }),
  KAFKA_CONNECT_TIMEOUT_MS: PositiveMs(10_000),
  FETCH_MAX_WAIT_MS: PositiveMs(100),
  FETCH_MAX_BYTES_PER_PARTITION: Type.Integer({
    default: 16 * 1024 * 1024,
    minimum: 1024,
    maximum: 1024 * 1024 * 1024,
    description: 'bytes, 1024..1073741824',
  }),
  KAFKA_RECONNECT_BACKOFF_MS: PositiveMs(2_000),
  EVENTS_BUFFER_SIZE: Type.Integer({
    default: 10_000,
    minimum: 1,
    maximum: 1_000_000,
    description: 'changes kept for /events clients that resume with Last-Event-ID, 1..1000000',
  }),
  EVENTS_CLIENT_BUFFER_BYTES: Type.Integer({
    default: 1024 * 1024,
    minimum: 1024,
    maximum: 256 * 1024 * 1024,
    description: 'bytes of events queued for one /events client before it is dropped, 1024..268435456',
  }),
  EVENTS_HEARTBEAT_MS: PositiveMs(5_000),
  SHUTDOWN_TIMEOUT_MS: PositiveMs(10_000),
  KAFKA_SSL: Flag(false),
  KAFKA_SSL_CA_FILE: Optional('a path to a PEM file of CA certificates'),
  KAFKA_SSL_CERT_FILE: Optional('a path to a PEM client certificate'),
  KAFKA_SSL_KEY_FILE: Optional('a path to the PEM key of the client certificate'),
  KAFKA_SASL_MECHANISM: Type.Optional(
    Type.Union([Type.Literal('plain'), Type.Literal('scram-sha-256'), Type.Literal('scram-sha-512')], {
      description: 'plain, scram-sha-256 or scram-sha-512',
    }),
  ),
  KAFKA_SASL_USERNAME: Optional('the SASL user name'),
  KAFKA_SASL_PASSWORD: Optional('the SASL password'),
})
export type Config = Static<typeof Config>

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/** The properties of an object schema as a record, so each variable's schema can be looked up by name. */
const properties = (schema: TSchema): Record<string, TSchema> => schema.properties as Record<string, TSchema>

/**
 * Reads the settings once from `env`. Unknown variables are ignored; a bad value throws a ConfigError
 * naming every offending variable, its value and what was expected.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const known = properties(Config)
  const raw: Record<string, string> = {}
  for (const name of Object.keys(known)) {
    const value = env[name]
    if (value !== undefined && value !== '') raw[name] = value.trim()
  }
  const converted = Value.Convert(Config, Value.Default(Config, structuredClone(raw)))
  const problems = new Map<string, string>()
  for (const error of Value.Errors(Config, converted)) {
    const name = error.path.split('/')[1] ?? ''
    if (problems.has(name)) continue
    const expected = known[name]?.description ?? error.message
    problems.set(name, `${name}=${JSON.stringify(raw[name] ?? '')}: expected ${expected}`)
  }
  // Value.Convert truncates "50.5" to 50 for an integer; a setting should not be silently changed.
  for (const [name, text] of Object.entries(raw)) {
    if (known[name]?.type === 'integer' && !/^[+-]?\d+$/.test(text) && !problems.has(name)) {
      problems.set(name, `${name}=${JSON.stringify(text)}: expected ${known[name]?.description}`)
    }
  }
  if (problems.size === 0) {
    for (const [name, problem] of dependentProblems(converted as Config)) problems.set(name, problem)
  }
  if (problems.size > 0) {
    throw new ConfigError(
      `invalid configuration:\n  ${[...problems.values()].join('\n  ')}\n(set these in .env or the environment)`,
    )
  }
  return converted as Config
}

/** Settings that are valid alone but not together. */
function dependentProblems(config: Config): Array<[string, string]> {
  const problems: Array<[string, string]> = []
  if (config.KAFKA_SASL_MECHANISM && !(config.KAFKA_SASL_USERNAME && config.KAFKA_SASL_PASSWORD)) {
    problems.push([
      'KAFKA_SASL_MECHANISM',
      `KAFKA_SASL_MECHANISM=${config.KAFKA_SASL_MECHANISM}: expected KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD to be set too`,
    ])
  }
  if (Boolean(config.KAFKA_SSL_CERT_FILE) !== Boolean(config.KAFKA_SSL_KEY_FILE)) {
    problems.push([
      'KAFKA_SSL_CERT_FILE',
      'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE: expected both or neither (a client certificate needs its key)',
    ])
  }
  return problems
}
