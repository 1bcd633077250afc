import { describe, expect, it } from 'bun:test'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateBroker, startService, waitForKafkaError, waitUntilReady } from '../helpers.ts'

const TOKEN = 'tls-test-token-0123456789'

describe('Kafka over TLS', () => {
  it('connects with the CA and a client certificate, and fails clearly without the certificate', async () => {
    const broker = privateBroker(19192)
    const started = await broker.sh('start')
    expect(started.out).toContain('broker ready')
    const topic = `contas-tls-${Date.now()}`
    const tls = {
      BOOTSTRAP_SERVERS: broker.tlsBootstrap,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: broker.tls.ca,
    }

    const service = startService(topic, {
      ...tls,
      KAFKA_SSL_CERT_FILE: broker.tls.cert,
      KAFKA_SSL_KEY_FILE: broker.tls.key,
      SALDO_API_TOKEN: TOKEN,
    })
    await waitUntilReady(service)
    const put = await service.get('/saldo/1', {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{"saldo":5}',
    })
    expect(put.status).toBe(200)

    // The broker requires a client certificate: without one the handshake fails, and saldo says so.
    const anonymous = startService(topic, tls)
    const ready = await waitForKafkaError(anonymous)
    expect(ready.ready).toBe(false)
    expect(ready.kafka.lastError).toMatch(/connect|socket|ssl|tls|certificate|handshake/i)
  })

  it('stops at start with a clear message when a PEM file cannot be read', async () => {
    const missing = join(tmpdir(), `no-such-ca-${Date.now()}.pem`)
    expect(() => startService('contas-unused', { KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: missing })).toThrow(
      `KAFKA_SSL_CA_FILE=${missing}: cannot read it`,
    )
  })
})
