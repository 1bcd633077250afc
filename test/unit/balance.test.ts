import { describe, expect, it } from 'bun:test'
import { clienteIdProblem, isIsoTimestamp, MAX_VALUE_BYTES, type RejectReason } from '../../src/balance.ts'
import { decodeRecord } from '../../src/record.ts'

const bytes = (text: string) => Buffer.from(text)
const json = (value: unknown) => bytes(JSON.stringify(value))

describe('decodeRecord', () => {
  it("reads the seed's record", () => {
    const value = bytes('{"cliente_id":"1","saldo":150.0,"timestamp":"2025-10-14T10:30:45"}')
    expect(decodeRecord(bytes('1'), value)).toEqual({
      kind: 'put',
      balance: { cliente_id: '1', saldo: 150, timestamp: '2025-10-14T10:30:45' },
    })
  })

  it('treats a null value as a delete', () => {
    expect(decodeRecord(bytes('7'), null)).toEqual({ kind: 'delete', clienteId: '7' })
  })

  it('keeps only the public fields', () => {
    const decoded = decodeRecord(
      bytes('1'),
      json({ cliente_id: '1', saldo: 1, timestamp: '2025-10-14T10:30:45Z', x: 1 }),
    )
    expect(decoded).toEqual({
      kind: 'put',
      balance: { cliente_id: '1', saldo: 1, timestamp: '2025-10-14T10:30:45Z' },
    })
  })

  const good = { cliente_id: '1', saldo: 1, timestamp: '2025-10-14T10:30:45' }
  const poison: Array<[string, Buffer | null, Buffer | null, RejectReason]> = [
    ['no key', null, json(good), 'key_missing'],
    ['empty key', bytes(''), json(good), 'key_missing'],
    ['key not UTF-8', Buffer.from([0xff, 0xfe]), json(good), 'key_invalid'],
    [
      'key over 128 bytes',
      bytes('x'.repeat(129)),
      json({ ...good, cliente_id: 'x'.repeat(129) }),
      'key_invalid',
    ],
    ['key with a control character', bytes('a\nb'), json({ ...good, cliente_id: 'a\nb' }), 'key_invalid'],
    [
      'key with a C1 control (NEL)',
      bytes('a\u0085b'),
      json({ ...good, cliente_id: 'a\u0085b' }),
      'key_invalid',
    ],
    ['value over the size cap', bytes('1'), Buffer.alloc(MAX_VALUE_BYTES + 1, 0x20), 'value_too_large'],
    ['value not UTF-8', bytes('1'), Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), 'value_not_utf8'],
    ['value not JSON', bytes('1'), bytes('saldo=10'), 'value_not_json'],
    ['value is a JSON array', bytes('1'), json([good]), 'value_wrong_shape'],
    ['value is JSON null', bytes('1'), bytes('null'), 'value_wrong_shape'],
    ['saldo as a string', bytes('1'), json({ ...good, saldo: '150.0' }), 'value_wrong_shape'],
    ['saldo missing', bytes('1'), json({ cliente_id: '1', timestamp: good.timestamp }), 'value_wrong_shape'],
    ['timestamp missing', bytes('1'), json({ cliente_id: '1', saldo: 1 }), 'value_wrong_shape'],
    ['cliente_id a number', bytes('1'), json({ ...good, cliente_id: 1 }), 'value_wrong_shape'],
    [
      'saldo overflowing to Infinity',
      bytes('1'),
      bytes('{"cliente_id":"1","saldo":1e999,"timestamp":"2025-10-14T10:30:45"}'),
      'saldo_not_finite',
    ],
    [
      'saldo NaN (not JSON)',
      bytes('1'),
      bytes('{"cliente_id":"1","saldo":NaN,"timestamp":"2025-10-14T10:30:45"}'),
      'value_not_json',
    ],
    ['key differs from cliente_id', bytes('2'), json(good), 'key_mismatch'],
    [
      'timestamp not ISO-8601',
      bytes('1'),
      json({ ...good, timestamp: '14/10/2025 10:30' }),
      'timestamp_invalid',
    ],
    [
      'timestamp on 2025-04-31',
      bytes('1'),
      json({ ...good, timestamp: '2025-04-31T10:30:45' }),
      'timestamp_invalid',
    ],
    [
      'timestamp with offset +99:99',
      bytes('1'),
      json({ ...good, timestamp: '2025-10-14T10:30:45+99:99' }),
      'timestamp_invalid',
    ],
    [
      'timestamp with month 13',
      bytes('1'),
      json({ ...good, timestamp: '2025-13-14T10:30:45' }),
      'timestamp_invalid',
    ],
  ]
  for (const [name, key, value, reason] of poison) {
    it(`rejects a record with ${name} as ${reason}`, () => {
      const decoded = decodeRecord(key, value)
      expect(decoded.kind).toBe('reject')
      expect(decoded).toMatchObject({ reason })
    })
  }

  it('accepts U+FFFD that was really sent', () => {
    const id = 'a\uFFFDb'
    expect(decodeRecord(bytes(id), json({ ...good, cliente_id: id }))).toMatchObject({ kind: 'put' })
  })
})

describe('isIsoTimestamp', () => {
  for (const text of [
    '2025-10-14T10:30:45',
    '2025-10-14T10:30',
    '2025-10-14T10:30:45.123Z',
    '2025-10-14T10:30:45+01:00',
    '2025-12-31T23:59:60.999999999-0130',
    '2025-01-01 00:00:00',
    '2024-02-29T12:00',
    '2000-02-29T12:00',
    '2025-01-31T00:00',
    '2025-04-30T00:00',
    '2025-12-31T23:59:59Z',
    '2025-10-14T10:30:45+23:59',
    '2025-10-14T10:30:45-1200',
  ]) {
    it(`accepts ${text}`, () => expect(isIsoTimestamp(text)).toBe(true))
  }
  for (const text of [
    '',
    '2025-10-14',
    '10:30:45',
    '2025-10-14T25:00:00',
    'yesterday',
    '2025-00-14T10:30',
    '2025-13-14T10:30',
    '2025-10-00T10:30',
    '2025-10-32T10:30',
    '2025-10-14T24:00',
    '2025-10-14T10:60',
    '2025-10-14T10:30:61',
    '2025-10-14T10:30:45.1234567890',
    '2025-02-29T12:00',
    '1900-02-29T12:00',
    '2025-02-30T12:00',
    '2025-02-31T12:00',
    '2025-04-31T12:00',
    '2025-06-31T12:00',
    '2025-09-31T12:00',
    '2025-11-31T12:00',
    '2025-10-14T10:30:45+99:99',
    '2025-10-14T10:30:45+24:00',
    '2025-10-14T10:30:45-12:60',
    '2025-10-14T10:30:45+0960',
  ]) {
    it(`refuses ${JSON.stringify(text)}`, () => expect(isIsoTimestamp(text)).toBe(false))
  }
})

describe('clienteIdProblem', () => {
  it('accepts ids of 1 to 128 bytes', () => {
    expect(clienteIdProblem('1')).toBeUndefined()
    expect(clienteIdProblem('é'.repeat(64))).toBeUndefined()
  })
  it('refuses empty, long and control-character ids', () => {
    expect(clienteIdProblem('')).toContain('empty')
    expect(clienteIdProblem('é'.repeat(65))).toContain('128 bytes')
    expect(clienteIdProblem('a\u0000')).toContain('control')
    expect(clienteIdProblem('a\u0080')).toContain('control')
    expect(clienteIdProblem('a\u009f')).toContain('control')
    expect(clienteIdProblem('a\u00a0')).toBeUndefined()
  })
})
