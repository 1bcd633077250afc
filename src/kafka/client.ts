import { readFileSync } from 'node:fs'
import { Kafka, type KafkaConfig, logLevel, type SASLOptions } from 'kafkajs'
import type { Config } from '../config.ts'
import type { Logger } from '../log.ts'

type ConnectionConfig = Pick<
  Config,
  | 'BOOTSTRAP_SERVERS'
  | 'KAFKA_CONNECT_TIMEOUT_MS'
  | 'KAFKA_SSL'
  | 'KAFKA_SSL_CA_FILE'
  | 'KAFKA_SSL_CERT_FILE'
  | 'KAFKA_SSL_KEY_FILE'
  | 'KAFKA_SASL_MECHANISM'
  | 'KAFKA_SASL_USERNAME'
  | 'KAFKA_SASL_PASSWORD'
>

function readPem(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new Error(
      `${variable}=${path}: cannot read it (${(error as Error).message}); fix the path or unset it`,
    )
  }
}

function ssl(config: ConnectionConfig): KafkaConfig['ssl'] {
  const files = config.KAFKA_SSL_CA_FILE || config.KAFKA_SSL_CERT_FILE
  if (!config.KAFKA_SSL && !files) return undefined
  return {
    ...(config.KAFKA_SSL_CA_FILE ? { ca: [readPem('KAFKA_SSL_CA_FILE', config.KAFKA_SSL_CA_FILE)] } : {}),
    ...(config.KAFKA_SSL_CERT_FILE
      ? { cert: readPem('KAFKA_SSL_CERT_FILE', config.KAFKA_SSL_CERT_FILE) }
      : {}),
    ...(config.KAFKA_SSL_KEY_FILE ? { key: readPem('KAFKA_SSL_KEY_FILE', config.KAFKA_SSL_KEY_FILE) } : {}),
  }
}

function sasl(config: ConnectionConfig): SASLOptions | undefined {
  const {
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: username,
    KAFKA_SASL_PASSWORD: password,
  } = config
  if (!mechanism || !username || !password) return undefined
  return { mechanism, username, password } as SASLOptions
}

const LEVEL_NAMES = {
  // kafkajs logs every failed connection attempt as an error; the materializer logs one error per
  // outage cycle, with what it does about it, so these are warnings.
  [logLevel.ERROR]: 'warn',
  [logLevel.WARN]: 'warn',
  // kafkajs' info lines (joins, rebalances) are routine; they are our debug.
  [logLevel.INFO]: 'debug',
  [logLevel.DEBUG]: 'debug',
} as const

/** A kafkajs client for the configured cluster, with TLS/SASL from the settings and our logger. */
export function createKafka(config: ConnectionConfig, log: Logger, clientId = 'saldo'): Kafka {
  return new Kafka({
    clientId,
    brokers: config.BOOTSTRAP_SERVERS.split(','),
    connectionTimeout: config.KAFKA_CONNECT_TIMEOUT_MS,
    ssl: ssl(config),
    sasl: sasl(config),
    // Retries inside one operation; reconnecting after a long outage is the materializer's loop.
    retry: { initialRetryTime: 300, retries: 5, maxRetryTime: 5_000 },
    logLevel: logLevel.INFO,
    logCreator: () => (entry) => {
      const level = LEVEL_NAMES[entry.level as keyof typeof LEVEL_NAMES] ?? 'debug'
      const { message, timestamp: _timestamp, logger: _logger, stack: _stack, ...extra } = entry.log
      log[level](`kafkajs: ${message}`, { component: entry.namespace, ...extra })
    },
  })
}
