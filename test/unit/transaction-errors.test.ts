import { describe, expect, it } from 'bun:test'
import { KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs'
import { Fenced, isFencing, NotOwner, Stopped } from '../../src/kafka/transaction-errors.ts'

/** A broker error as kafkajs builds it: a protocol error, wrapped by its retrier when it gives up. */
function brokerError(type: string, code: number): Error {
  const protocol = new KafkaJSProtocolError(Object.assign(new Error(type), { type, code, retriable: false }))
  return Object.assign(new KafkaJSNonRetriableError(protocol), { cause: protocol })
}

describe('transaction errors', () => {
  it('recognises Kafka fencing a producer, bare or wrapped, and nothing else', () => {
    expect(isFencing(brokerError('INVALID_PRODUCER_EPOCH', 47))).toBe(true)
    expect(isFencing(brokerError('KAFKAJS_UNKNOWN_ERROR', 90))).toBe(true)
    expect(
      isFencing(new KafkaJSProtocolError(Object.assign(new Error('x'), { type: 'PRODUCER_FENCED' }))),
    ).toBe(true)
    expect(isFencing(new Fenced(0, 'g.t.0'))).toBe(true)
    expect(isFencing(brokerError('CONCURRENT_TRANSACTIONS', 51))).toBe(false)
    expect(isFencing(brokerError('INVALID_TXN_STATE', 48))).toBe(false)
    expect(isFencing(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(false)
    expect(isFencing(new NotOwner('contas', 1))).toBe(false)
    expect(isFencing(undefined)).toBe(false)
  })

  it('says what happened and what to do', () => {
    expect(new NotOwner('contas', 1).message).toBe(
      'this instance does not write partition 1 of contas (not acquired, or released): nothing was written; ' +
        'send the write to the partition’s owner',
    )
    const fenced = new Fenced(2, 'consulta-saldo.contas.2')
    expect(fenced.name).toBe('Fenced')
    expect(fenced.message).toContain('initialized transactional.id consulta-saldo.contas.2 after this one')
    expect(fenced.message).toContain('acquire the partition again once the group assigns it here')
    const stopped = new Stopped(0, 'consulta-saldo.contas.0')
    expect(stopped.name).toBe('Stopped')
    expect(stopped.message).toContain('a transaction on it failed')
    expect(stopped.message).toContain('acquire the partition again if this instance still owns it')
    expect(isFencing(stopped)).toBe(false)
  })
})
