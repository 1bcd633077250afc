import { hostname } from 'node:os'
import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

// Every setting saldo reads from the environment (Bun loads .env first; the environment wins).
// The title says what the setting does (--help and the README's table show it); the description is
// what the error message says was expected.
const PositiveMs = (fallback: number, title: string) =>
  Type.Integer({
    minimum: 1,
    maximum: 600_000,
    default: fallback,
    title,
    description: 'milliseconds, 1..600000',
  })
const Flag = (fallback: boolean, title: string) =>
  Type.Boolean({ default: fallback, title, description: 'true or false' })
const Optional = (title: string, description: string) =>
  Type.Optional(Type.String({ minLength: 1, title, description }))

export const Config = Type.Object({
  BOOTSTRAP_SERVERS: Type.String({
    default: 'localhost:9092',
    title: 'the Kafka brokers to connect to',
    pattern: '^[^,:\\s]+:\\d{1,5}(,[^,:\\s]+:\\d{1,5})*$',
    description: 'a comma-separated list of host:port',
  }),
  TOPIC: Type.String({
    default: 'contas',
    title: 'the compacted topic of balances',
    pattern: '^[a-zA-Z0-9._-]{1,249}$',
    description: 'a Kafka topic name (letters, digits, . _ -)',
  }),
  MOVEMENTS_TOPIC: Type.String({
    default: 'contas-movimentos',
    title:
      'the topic of credit/debit movements (created like TOPIC, with its partition count, cleanup.policy=delete)',
    pattern: '^[a-zA-Z0-9._-]{1,249}$',
    description: 'a Kafka topic name (letters, digits, . _ -)',
  }),
  // The idempotency window is this retention: a key is remembered as long as its movement is kept.
  MOVEMENTS_RETENTION_MS: Type.Integer({
    default: 7 * 24 * 3600 * 1000,
    minimum: 60_000,
    maximum: 365 * 24 * 3600 * 1000,
    title: 'retention.ms of a movements topic saldo creates; also how long an Idempotency-Key is remembered',
    description: 'milliseconds, 60000..31536000000 (1 minute to 365 days)',
  }),
  MIN_SALDO: Type.Number({
    default: 0,
    title: 'the floor of every balance: a debit that would leave less answers 422',
    description: 'a number, e.g. 0 or -500',
  }),
  GROUP: Type.String({
    default: 'consulta-saldo',
    title: 'consumer group prefix; each instance joins a group of its own (GROUP-INSTANCE_ID)',
    minLength: 1,
    maxLength: 200,
    description: 'a consumer group prefix',
  }),
  INSTANCE_ID: Optional(
    'names this instance in its consumer group; must be unique per running instance (default: host name, pid and a random part)',
    'a non-empty name',
  ),
  PORT: Type.Integer({
    default: 5000,
    title: 'the HTTP port of saldo-api',
    minimum: 0,
    maximum: 65535,
    description: 'an integer 0..65535 (0 picks a free port)',
  }),
  HOST: Type.String({
    default: '0.0.0.0',
    minLength: 1,
    title: 'the address saldo-api listens on',
    description: 'an IP address or host name',
  }),
  ADVERTISED_URL: Type.Optional(
    Type.String({
      title:
        'where other instances reach this one (default http://HOST:PORT, the host name if HOST is 0.0.0.0 or ::)',
      pattern: '^https?://[^\\s/?#@]+(/[^\\s?#]*)?$',
      description: 'an http:// or https:// URL without query or fragment, e.g. http://saldo-1:5000',
    }),
  ),
  // 10 s: a dead instance's partitions move after at most this long, and Kafka's own 45 s default
  // would leave their writes unanswered for that long; the broker refuses less than its
  // group.min.session.timeout.ms (6 s by default), and a loaded 2-core machine stalls well under 10 s.
  OWNERSHIP_SESSION_TIMEOUT_MS: Type.Integer({
    default: 10_000,
    minimum: 6_000,
    maximum: 1_800_000,
    title:
      'how long the ownership group waits for a silent instance before moving its partitions (heartbeat: a tenth)',
    description: "milliseconds, 6000..1800000 (the broker's group.min/max.session.timeout.ms)",
  }),
  MODE: Type.Union([Type.Literal('replica'), Type.Literal('partitioned')], {
    default: 'replica',
    title:
      'replica: every instance holds every partition; partitioned: each holds the partitions it owns plus STANDBY_REPLICAS copies of others, and fetches the rest from their owners',
    description: 'replica or partitioned (the same on every instance of a GROUP)',
  }),
  STANDBY_REPLICAS: Type.Integer({
    default: 1,
    minimum: 0,
    maximum: 100,
    title:
      "MODE=partitioned: standby copies of each partition kept on other instances than its owner, which answer reads when the owner is gone (the group leader's value is used)",
    description: 'an integer 0..100',
  }),
  TOPIC_PARTITIONS: Type.Integer({
    default: 3,
    title: 'partitions of the topic when saldo creates it',
    minimum: 1,
    maximum: 10_000,
    description: 'partitions for a topic saldo creates, 1..10000',
  }),
  TOPIC_REPLICATION_FACTOR: Type.Optional(
    Type.Integer({
      title:
        'replication factor of a topic saldo creates (unset: 3 on 3+ brokers, else 1); from 3, min.insync.replicas = RF-1',
      minimum: 1,
      maximum: 32,
      description: 'replication factor for a topic saldo creates, 1..32',
    }),
  ),
  REPLICATION_CHECK_INTERVAL_MS: PositiveMs(
    10_000,
    "how often the topic's replicas are checked for /ready's warnings (out of sync, no leader)",
  ),
  STATE_DIR: Type.String({
    default: './data',
    title: 'where saldo-api keeps its local snapshot',
    minLength: 1,
    description: "a folder for the local snapshot, or 'memory' to keep no snapshot",
  }),
  LOG_LEVEL: Type.Union(
    [Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')],
    {
      default: 'info',
      title: 'the least severe log level written',
      description: 'debug, info, warn or error',
    },
  ),
  LOG_FORMAT: Type.Union([Type.Literal('json'), Type.Literal('pretty')], {
    default: 'json',
    title: 'log lines as JSON objects, or human-readable',
    description: 'json or pretty',
  }),
  PROGRESS_LOG_INTERVAL_MS: PositiveMs(5_000, 'how often the replay logs its progress'),
  RETRY_AFTER_S: Type.Integer({
    default: 2,
    minimum: 1,
    maximum: 3600,
    title: 'the Retry-After header of 503 answers (during the replay, /events full)',
    description: 'seconds, 1..3600',
  }),
  KAFKA_CONNECT_TIMEOUT_MS: PositiveMs(10_000, 'how long to wait for a connection to a broker'),
  FETCH_MAX_WAIT_MS: PositiveMs(100, 'how long the broker may hold a fetch waiting for new records'),
  // 1 MiB: the replay's peak RSS follows the fetch size (1M keys: 0.4 GB vs 1.0-1.2 GB at 16 MiB), its
  // speed does not (README, Performance).
  FETCH_MAX_BYTES_PER_PARTITION: Type.Integer({
    default: 1024 * 1024,
    title: 'the most bytes one fetch returns per partition',
    minimum: 1024,
    maximum: 1024 * 1024 * 1024,
    description: 'bytes, 1024..1073741824',
  }),
  KAFKA_RECONNECT_BACKOFF_MS: PositiveMs(2_000, 'the pause before reconnecting after Kafka failed'),
  TOPIC_CHECK_INTERVAL_MS: PositiveMs(
    5_000,
    "how often the topic's partition count is checked while running (a change rebuilds the state)",
  ),
  FOREIGN_PARTITION: Type.Union([Type.Literal('accept'), Type.Literal('reject')], {
    default: 'accept',
    title:
      'a record on another partition than murmur2(key) puts it on: applied (with a /ready warning) or rejected',
    description: 'accept or reject',
  }),
  EVENTS_BUFFER_SIZE: Type.Integer({
    default: 10_000,
    minimum: 1,
    maximum: 1_000_000,
    title: 'recent changes kept for /events clients that resume with Last-Event-ID',
    description: 'a count, 1..1000000',
  }),
  EVENTS_BUFFER_BYTES: Type.Integer({
    default: 8 * 1024 * 1024,
    minimum: 64 * 1024,
    maximum: 1024 * 1024 * 1024,
    title: 'bytes those recent changes may take (the older ones go first when either bound is reached)',
    description: 'bytes, 65536..1073741824',
  }),
  EVENTS_CLIENT_BUFFER_BYTES: Type.Integer({
    default: 1024 * 1024,
    minimum: 1024,
    maximum: 256 * 1024 * 1024,
    title: 'events queued for one slow /events client before it is dropped',
    description: 'bytes, 1024..268435456',
  }),
  EVENTS_HEARTBEAT_MS: PositiveMs(5_000, 'how often /events sends a heartbeat comment'),
  // Each stream holds a socket and up to EVENTS_CLIENT_BUFFER_BYTES: 256 of them stay within a
  // quarter of the usual 1024-descriptor limit (Kafka, the snapshot and plain requests need the rest)
  // and within 256 MiB of queues at the default buffer.
  EVENTS_MAX_CLIENTS: Type.Integer({
    default: 256,
    minimum: 1,
    maximum: 100_000,
    title: 'the most /events streams open at once (503 with Retry-After past it)',
    description: 'a count, 1..100000',
  }),
  EVENTS_STALL_TIMEOUT_MS: PositiveMs(
    30_000,
    'how long events may wait for an /events client that reads none of them before it is dropped',
  ),
  SHUTDOWN_TIMEOUT_MS: PositiveMs(10_000, 'how long a clean stop may take before exiting anyway'),
  SALDO_API_TOKEN: Type.Optional(
    Type.String({
      // Headers are Latin-1 and a space ends the token: only visible ASCII can ever match.
      pattern: '^[\\x21-\\x7E]{16,}$',
      title:
        'bearer token for /saldo* routes; setting it also enables writes (unset: reads open, writes off)',
      description: 'a token of at least 16 visible ASCII characters (0x21-0x7E: no spaces, no accents)',
    }),
  ),
  METRICS_PUBLIC: Flag(
    true,
    'serve /metrics without the bearer token (false: /metrics needs SALDO_API_TOKEN)',
  ),
  WRITE_TIMEOUT_MS: PositiveMs(
    5_000,
    'how long a PUT/DELETE waits for Kafka to acknowledge it before answering 503 (the write may or may not be made)',
  ),
  WRITE_WAIT_MS: PositiveMs(5_000, 'how long a PUT/DELETE waits to be applied here before answering 504'),
  // 11 s: the owner may take WRITE_TIMEOUT_MS + WRITE_WAIT_MS (5 + 5 s) to answer a write; giving up
  // sooner would answer 503 for a write the owner is still making. An owner that is down refuses the
  // connection at once: that 503 comes without waiting.
  FORWARD_TIMEOUT_MS: PositiveMs(
    11_000,
    "how long a write sent to a non-owner may take to find the key's owner and get its answer (else 503)",
  ),
  // Short: a read is answered locally in well under a millisecond, and an owner that does not answer
  // within this is taken for gone (the group notices only after OWNERSHIP_SESSION_TIMEOUT_MS).
  READ_FORWARD_TIMEOUT_MS: PositiveMs(
    500,
    "MODE=partitioned: how long a read of another instance's partition waits for its owner before asking a standby",
  ),
  MIN_POSITION_WAIT_MS: PositiveMs(5_000, 'how long a read waits to reach min_position before answering 503'),
  MAX_BODY_BYTES: Type.Integer({
    // POST /saldos with its 1000 ids of up to 128 bytes needs about 131 KiB.
    default: 256 * 1024,
    minimum: 256,
    maximum: 16 * 1024 * 1024,
    title: 'the largest request body accepted on any route (413 past it, never read)',
    description: 'bytes, 256..16777216',
  }),
  SALDO_API_URL: Type.String({
    default: 'http://localhost:5000',
    pattern: '^https?://[^\\s]+$',
    title: 'where saldo-produce --credit/--debit sends movements (a saldo-api instance)',
    description: 'an http:// or https:// URL',
  }),
  KAFKA_SSL: Flag(false, 'connect to Kafka over TLS'),
  KAFKA_SSL_CA_FILE: Optional('CA certificates to trust for TLS', 'a path to a PEM file of CA certificates'),
  KAFKA_SSL_CERT_FILE: Optional('client certificate for mutual TLS', 'a path to a PEM client certificate'),
  KAFKA_SSL_KEY_FILE: Optional(
    'key of the client certificate',
    'a path to the PEM key of the client certificate',
  ),
  KAFKA_SASL_MECHANISM: Type.Optional(
    Type.Union([Type.Literal('plain'), Type.Literal('scram-sha-256'), Type.Literal('scram-sha-512')], {
      title: 'SASL authentication mechanism (unset: no SASL)',
      description: 'plain, scram-sha-256 or scram-sha-512',
    }),
  ),
  KAFKA_SASL_USERNAME: Optional('the SASL user name', 'a non-empty user name'),
  KAFKA_SASL_PASSWORD: Optional('the SASL password', 'a non-empty password'),
})
export type Config = Static<typeof Config>

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/**
 * The URL this instance advertises to the ownership group: ADVERTISED_URL, else its own address and
 * the port it listens on (known only once it listens, when PORT=0). A wildcard HOST says nothing about
 * where to reach it, so the host name stands in.
 */
export function advertisedUrl(config: Pick<Config, 'ADVERTISED_URL' | 'HOST'>, port: number): string {
  if (config.ADVERTISED_URL) return config.ADVERTISED_URL.replace(/\/+$/, '')
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? hostname() : config.HOST
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}

/** Variables saldo once read under another name: setting the old one stops with the new name. */
const RENAMED: Record<string, keyof Config> = { TOPIC_REPLICATION: 'TOPIC_REPLICATION_FACTOR' }

/** The properties of an object schema as a record, so each variable's schema can be looked up by name. */
const properties = (schema: TSchema): Record<string, TSchema> => schema.properties as Record<string, TSchema>

/** Secrets are not repeated in an error message, which ends up in logs and terminals. */
const SECRETS = new Set(['SALDO_API_TOKEN', 'KAFKA_SASL_PASSWORD'])
const shown = (name: string, value: string) =>
  SECRETS.has(name) ? `(hidden, ${value.length} characters)` : JSON.stringify(value)

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
  for (const [old, name] of Object.entries(RENAMED)) {
    if (env[old] !== undefined && env[old] !== '') {
      problems.set(old, `${old}=${JSON.stringify(env[old])}: renamed; set ${name}=${env[old]} instead`)
    }
  }
  for (const error of Value.Errors(Config, converted)) {
    const name = error.path.split('/')[1] ?? ''
    if (problems.has(name)) continue
    const expected = known[name]?.description ?? error.message
    problems.set(name, `${name}=${shown(name, raw[name] ?? '')}: expected ${expected}`)
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
  if (!config.METRICS_PUBLIC && !config.SALDO_API_TOKEN) {
    problems.push([
      'METRICS_PUBLIC',
      'METRICS_PUBLIC=false: expected SALDO_API_TOKEN to be set, the token /metrics then needs',
    ])
  }
  if (config.MOVEMENTS_TOPIC === config.TOPIC) {
    problems.push([
      'MOVEMENTS_TOPIC',
      `MOVEMENTS_TOPIC=${config.MOVEMENTS_TOPIC}: expected another topic than TOPIC (movements are history, balances are compacted)`,
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
