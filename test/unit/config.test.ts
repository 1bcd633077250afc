import { describe, expect, it } from 'bun:test'
import { hostname } from 'node:os'
import { advertisedUrl, ConfigError, loadConfig } from '../../src/config.ts'

describe('loadConfig', () => {
  it('gives the documented defaults when nothing is set', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      BOOTSTRAP_SERVERS: 'localhost:9092',
      TOPIC: 'contas',
      GROUP: 'consulta-saldo',
      PORT: 5000,
      TOPIC_PARTITIONS: 3,
      STATE_DIR: './data',
      LOG_FORMAT: 'json',
    })
  })

  it('leaves the replication factor to the cluster size unless TOPIC_REPLICATION_FACTOR is set', () => {
    expect(loadConfig({}).TOPIC_REPLICATION_FACTOR).toBeUndefined()
    expect(loadConfig({ TOPIC_REPLICATION_FACTOR: '2' }).TOPIC_REPLICATION_FACTOR).toBe(2)
  })

  it('converts numbers and flags from their text', () => {
    const config = loadConfig({ PORT: '8080', TOPIC_PARTITIONS: '12', KAFKA_SSL: 'true' })
    expect(config.PORT).toBe(8080)
    expect(config.TOPIC_PARTITIONS).toBe(12)
    expect(config.KAFKA_SSL).toBe(true)
    expect(loadConfig({ MIN_SALDO: '-500.5' }).MIN_SALDO).toBe(-500.5)
  })

  it('keeps movements for 7 days in contas-movimentos, with a floor of 0', () => {
    expect(loadConfig({})).toMatchObject({
      MOVEMENTS_TOPIC: 'contas-movimentos',
      MOVEMENTS_RETENTION_MS: 604_800_000,
      MIN_SALDO: 0,
    })
  })

  const bad: Array<[Record<string, string>, string]> = [
    [{ PORT: 'abc' }, 'PORT="abc": expected an integer 0..65535'],
    [{ PORT: '70000' }, 'PORT="70000": expected an integer 0..65535'],
    [{ PORT: '50.5' }, 'PORT="50.5": expected an integer 0..65535'],
    [
      { BOOTSTRAP_SERVERS: 'localhost' },
      'BOOTSTRAP_SERVERS="localhost": expected a comma-separated list of host:port',
    ],
    [{ TOPIC: 'bad topic!' }, 'TOPIC="bad topic!": expected a Kafka topic name'],
    [
      { TOPIC_PARTITIONS: '0' },
      'TOPIC_PARTITIONS="0": expected partitions for a topic saldo creates, 1..10000',
    ],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL="loud": expected debug, info, warn or error'],
    [{ KAFKA_SSL: 'maybe' }, 'KAFKA_SSL="maybe": expected true or false'],
    [
      { KAFKA_SASL_MECHANISM: 'kerberos' },
      'KAFKA_SASL_MECHANISM="kerberos": expected plain, scram-sha-256 or scram-sha-512',
    ],
    [{ KAFKA_SASL_MECHANISM: 'plain' }, 'expected KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD to be set too'],
    [{ KAFKA_SSL_CERT_FILE: '/tmp/cert.pem' }, 'expected both or neither'],
    [{ METRICS_PUBLIC: 'false' }, 'METRICS_PUBLIC=false: expected SALDO_API_TOKEN to be set'],
    [{ SALDO_API_TOKEN: 'short' }, 'expected a token of at least 16 visible ASCII characters'],
    [{ SALDO_API_TOKEN: 'sénha-secreta-0123456789' }, 'expected a token of at least 16 visible ASCII'],
    [{ SALDO_API_TOKEN: 'a token with spaces inside' }, 'expected a token of at least 16 visible ASCII'],
    [{ SALDO_API_TOKEN: 'control\u0085character-token' }, 'expected a token of at least 16 visible'],
    [{ MIN_SALDO: 'zero' }, 'MIN_SALDO="zero": expected a number, e.g. 0 or -500'],
    [{ MOVEMENTS_RETENTION_MS: '1000' }, 'MOVEMENTS_RETENTION_MS="1000": expected milliseconds, 60000..'],
    [{ TOPIC: 'x', MOVEMENTS_TOPIC: 'x' }, 'MOVEMENTS_TOPIC=x: expected another topic than TOPIC'],
    [
      { SALDO_API_URL: 'localhost:5000' },
      'SALDO_API_URL="localhost:5000": expected an http:// or https:// URL',
    ],
    [{ TOPIC_REPLICATION: '3' }, 'TOPIC_REPLICATION="3": renamed; set TOPIC_REPLICATION_FACTOR=3 instead'],
    [
      { TOPIC_REPLICATION_FACTOR: '0' },
      'TOPIC_REPLICATION_FACTOR="0": expected replication factor for a topic saldo creates, 1..32',
    ],
    [
      { ADVERTISED_URL: 'saldo-1:5000' },
      'ADVERTISED_URL="saldo-1:5000": expected an http:// or https:// URL without query or fragment, e.g. http://saldo-1:5000',
    ],
    [
      { ADVERTISED_URL: 'ftp://saldo-1' },
      'ADVERTISED_URL="ftp://saldo-1": expected an http:// or https:// URL',
    ],
    [{ ADVERTISED_URL: 'http://saldo-1/?x=1' }, 'ADVERTISED_URL="http://saldo-1/?x=1": expected an http://'],
    [
      { OWNERSHIP_SESSION_TIMEOUT_MS: '1000' },
      'OWNERSHIP_SESSION_TIMEOUT_MS="1000": expected milliseconds, 6000..1800000 (the broker\'s group.min/max.session.timeout.ms)',
    ],
  ]
  for (const [env, message] of bad) {
    it(`stops on ${JSON.stringify(env)} with a message naming the variable, value and expectation`, () => {
      expect(() => loadConfig(env)).toThrow(ConfigError)
      expect(() => loadConfig(env)).toThrow(message)
    })
  }

  it('does not repeat a bad secret in its message', () => {
    expect(() => loadConfig({ SALDO_API_TOKEN: 'sénha-secreta-0123456789' })).toThrow(
      'SALDO_API_TOKEN=(hidden, 24 characters): expected a token of at least 16 visible ASCII characters',
    )
  })

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', LOG_FORMAT: 'xml' })).toThrow(/PORT="x".*\n.*LOG_FORMAT="xml"/)
  })
})

describe('advertisedUrl', () => {
  it('is ADVERTISED_URL when set (without a trailing slash), else this address and the port it listens on', () => {
    expect(advertisedUrl(loadConfig({ ADVERTISED_URL: 'https://saldo-1.internal:8443/api/' }), 5000)).toBe(
      'https://saldo-1.internal:8443/api',
    )
    expect(advertisedUrl(loadConfig({ HOST: '10.0.0.7' }), 5123)).toBe('http://10.0.0.7:5123')
    expect(advertisedUrl(loadConfig({ HOST: '::1' }), 5123)).toBe('http://[::1]:5123')
  })

  it('names the host when HOST listens on every address, which says nothing about where to reach it', () => {
    expect(advertisedUrl(loadConfig({}), 5000)).toBe(`http://${hostname()}:5000`)
    expect(advertisedUrl(loadConfig({ HOST: '::' }), 5000)).toBe(`http://${hostname()}:5000`)
  })
})
