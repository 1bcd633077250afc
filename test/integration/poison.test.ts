import { describe, expect, it } from 'bun:test'
import type { Message } from 'kafkajs'
import type { RejectReason } from '../../src/balance.ts'
import { balanceRecord, createTopic, produce, startService, waitFor, waitUntilReady } from '../helpers.ts'

const ts = '2025-10-14T10:30:45'
const value = (fields: Record<string, unknown>) =>
  JSON.stringify({ cliente_id: 'victim', saldo: 1, timestamp: ts, ...fields })

/** Every malformed kind of record, each aimed at the key `victim`, with the reason saldo must give. */
const poison: Array<[string, Message, RejectReason]> = [
  ['invalid UTF-8 value', { key: 'victim', value: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }, 'value_not_utf8'],
  ['invalid UTF-8 key', { key: Buffer.from([0xc3, 0x28]), value: value({}) }, 'key_invalid'],
  ['not JSON', { key: 'victim', value: 'saldo: 10' }, 'value_not_json'],
  [
    'NaN saldo (not JSON)',
    { key: 'victim', value: `{"cliente_id":"victim","saldo":NaN,"timestamp":"${ts}"}` },
    'value_not_json',
  ],
  [
    'Infinity saldo',
    { key: 'victim', value: `{"cliente_id":"victim","saldo":1e999,"timestamp":"${ts}"}` },
    'saldo_not_finite',
  ],
  ['string saldo', { key: 'victim', value: value({ saldo: '10.0' }) }, 'value_wrong_shape'],
  ['boolean saldo', { key: 'victim', value: value({ saldo: true }) }, 'value_wrong_shape'],
  [
    'saldo missing',
    { key: 'victim', value: JSON.stringify({ cliente_id: 'victim', timestamp: ts }) },
    'value_wrong_shape',
  ],
  [
    'timestamp missing',
    { key: 'victim', value: JSON.stringify({ cliente_id: 'victim', saldo: 1 }) },
    'value_wrong_shape',
  ],
  [
    'cliente_id missing',
    { key: 'victim', value: JSON.stringify({ saldo: 1, timestamp: ts }) },
    'value_wrong_shape',
  ],
  ['numeric timestamp', { key: 'victim', value: value({ timestamp: 1760437845 }) }, 'value_wrong_shape'],
  ['an array', { key: 'victim', value: '[1,2,3]' }, 'value_wrong_shape'],
  [
    'key differs from cliente_id',
    { key: 'victim', value: value({ cliente_id: 'someone-else' }) },
    'key_mismatch',
  ],
  [
    'timestamp not ISO-8601',
    { key: 'victim', value: value({ timestamp: '14/10/2025' }) },
    'timestamp_invalid',
  ],
  ['a value over 1 MB', { key: 'victim', value: value({ pad: 'x'.repeat(1_100_000) }) }, 'value_too_large'],
  ['a null key', { key: null, value: value({}) }, 'key_missing'],
  [
    'a key over 128 bytes',
    { key: 'k'.repeat(200), value: value({ cliente_id: 'k'.repeat(200) }) },
    'key_invalid',
  ],
]

describe('poison records', () => {
  it('skips every malformed kind between good records, counts each by reason, and keeps the good state', async () => {
    // Not compacted, so the broker accepts null keys; large messages allowed, to send a 1 MB value.
    const topic = await createTopic({
      partitions: 1,
      compact: false,
      configs: { 'max.message.bytes': '3000000' },
    })
    await produce(topic, [balanceRecord('victim', 100)])
    const service = startService(topic)
    await waitUntilReady(service)

    const messages: Message[] = []
    poison.forEach(([, message], i) => {
      messages.push(balanceRecord(`good-${i}`, i))
      messages.push(message)
    })
    // Odd headers on a good record change nothing.
    messages.push({
      ...balanceRecord('with-headers', 7),
      headers: { 'x-bin': Buffer.from([0, 255]), empty: '', ç: 'ü' },
    })
    messages.push(balanceRecord('last', 1))
    for (const message of messages) await produce(topic, [message])
    await waitFor(async () => (await service.get('/saldo/last')).status === 200, {
      what: 'the last good record',
    })

    const expected: Partial<Record<RejectReason, number>> = {}
    for (const [, , reason] of poison) expected[reason] = (expected[reason] ?? 0) + 1
    const { rejected, rejectedByReason } = service.numbers.summary()
    expect(rejectedByReason).toMatchObject(expected)
    expect(rejected).toBe(poison.length)
    expect(await (await service.get('/saldo/victim')).json()).toMatchObject({ saldo: 100 })
    for (let i = 0; i < poison.length; i++) {
      expect(await (await service.get(`/saldo/good-${i}`)).json()).toMatchObject({ saldo: i })
    }
    expect(await (await service.get('/saldo/with-headers')).json()).toMatchObject({ saldo: 7 })
    const ready = await (await service.get('/ready')).json()
    expect(ready.ready).toBe(true)
    expect(ready.warnings[0]).toContain('not compact')
  })
})
