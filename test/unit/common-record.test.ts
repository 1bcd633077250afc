import { describe, expect, it } from 'bun:test'
import { decodeCommonRecord, decodeCommonRecordIn } from '../../src/common-record.ts'
import { decodeAnyRecord, decodeRecord } from '../../src/record.ts'

const bytes = (text: string) => Buffer.from(text)

/** A small seeded generator (mulberry32): the same records on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

const KEYS = [
  '1',
  '42',
  'abc-XYZ_9',
  'a"b',
  'a\\b',
  'ção',
  '',
  'x'.repeat(128),
  'x'.repeat(129),
  '\u0001',
  'del\u007f',
  ' ',
]
const NUMBERS = [
  '150',
  '150.0',
  '-0',
  '0',
  '0.0',
  '-12.34',
  '1e3',
  '1E-2',
  '01',
  '1.',
  '.5',
  '-',
  '+1',
  '123456789012345',
  '1234567890123456',
  '0.1234567890123456789012',
  '0.12345678901234567890123',
  '9007199254740993',
  '1e999',
  '"5"',
  'null',
  'true',
  '0.1',
  '0.3',
  '-0.000001',
  '99999999999999.9',
  '1.7976931348623157',
]
const TIMESTAMPS = [
  '2025-10-14T10:30:45',
  '2025-02-29T00:00:00',
  '2024-02-29T00:00:00Z',
  'x',
  '',
  '2025-10-14T10:30:45.123+01:00',
  '2025-04-31T10:00:00',
  '2025-10-14 10:30',
  '\\u0032025-10-14T10:30:45',
  '2025-10-14T10:30:45\u0000',
]
const SPACES = ['', '', '', ' ', '\n', '\t ', '\r\n', '\u00a0']

function randomNumber(next: () => number): string {
  const digits = Array.from({ length: 1 + Math.floor(next() * 18) }, () => Math.floor(next() * 10)).join('')
  const dot = Math.floor(next() * (digits.length + 1))
  const text = dot > 0 && dot < digits.length ? `${digits.slice(0, dot)}.${digits.slice(dot)}` : digits
  return (next() < 0.3 ? '-' : '') + text.replace(/^0+(?=\d)/, '')
}

/** A record that is usually a balance, often slightly off in one of the ways a producer gets wrong. */
function randomRecord(next: () => number): { key: string; value: string } {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T
  const key = next() < 0.7 ? String(Math.floor(next() * 1000)) : pick(KEYS)
  const id = next() < 0.9 ? key : pick(KEYS)
  const space = () => (next() < 0.9 ? '' : pick(SPACES))
  const saldo = next() < 0.6 ? randomNumber(next) : pick(NUMBERS)
  const timestamp = next() < 0.8 ? '2025-10-14T10:30:45' : pick(TIMESTAMPS)
  const fields = [
    `"cliente_id"${space()}:${space()}${JSON.stringify(id).replace('\\u007f', '\u007f')}`,
    `"saldo"${space()}:${space()}${saldo}`,
    `"timestamp"${space()}:${space()}"${timestamp}"`,
  ]
  if (next() < 0.05) fields.push('"extra":1')
  if (next() < 0.05) fields.reverse()
  if (next() < 0.03) fields.push(`"saldo":${saldo}`)
  const body = fields.map((field) => `${space()}${field}${space()}`).join(',')
  const whole = `${space()}{${body}}${space()}${next() < 0.03 ? pick(['}', ',', 'x', '\u0000']) : ''}`
  // Cut short now and then: the value ends early, as a batch read in place would not show.
  const value = next() < 0.05 ? whole.slice(0, Math.floor(next() * whole.length)) : whole
  return { key, value }
}

const AROUND = ['', '}', '"}', '0"}', ' }', '5,"timestamp":"2025-10-14T10:30:45"}', '"', 'x']
const pickAround = (next: () => number) => AROUND[Math.floor(next() * AROUND.length)] as string

describe('decodeCommonRecord', () => {
  it('reads what our producer and a Python one write, and the numbers as JSON.parse does', () => {
    const value = bytes('{"cliente_id":"1","saldo":150.0,"timestamp":"2025-10-14T10:30:45"}')
    const python = bytes('{"cliente_id": "1", "saldo": -0.1, "timestamp": "2025-10-14T10:30:45.123Z"}')
    expect(decodeCommonRecord(bytes('1'), value)).toEqual({
      kind: 'put',
      balance: { cliente_id: '1', saldo: 150, timestamp: '2025-10-14T10:30:45' },
    })
    expect(decodeCommonRecord(bytes('1'), python)).toEqual({
      kind: 'put',
      balance: { cliente_id: '1', saldo: -0.1, timestamp: '2025-10-14T10:30:45.123Z' },
    })
  })

  it('leaves to the general path what it does not read itself', () => {
    const balance = (id: string, saldo: string, timestamp = '2025-10-14T10:30:45') =>
      bytes(`{"cliente_id":${JSON.stringify(id)},"saldo":${saldo},"timestamp":"${timestamp}"}`)
    for (const [key, value] of [
      ['ção', balance('ção', '1')],
      ['a"b', balance('a"b', '1')],
      ['1', balance('2', '1')],
      ['1', balance('1', '1e3')],
      ['1', balance('1', '1234567890123456')],
      ['1', balance('1', '1', '2025-02-29T00:00:00')],
      ['1', bytes('{"saldo":1,"cliente_id":"1","timestamp":"2025-10-14T10:30:45"}')],
      ['1', Buffer.concat([balance('1', '1'), bytes(' '.repeat(70_000))])],
    ] as const) {
      expect(decodeCommonRecord(bytes(key), value as Buffer)).toBeUndefined()
    }
  })

  it('gives what the general path gives, on 30,000 records near and far from a balance', () => {
    const next = random(14)
    let common = 0
    for (let i = 0; i < 30_000; i++) {
      const { key, value } = randomRecord(next)
      const [keyBytes, valueBytes] = [bytes(key), bytes(value)]
      const general = decodeAnyRecord(keyBytes, valueBytes)
      const decoded = decodeRecord(keyBytes, valueBytes)
      if (!Bun.deepEquals(decoded, general, true)) {
        throw new Error(
          `${JSON.stringify(key)} ${JSON.stringify(value)}: ${JSON.stringify(decoded)} ≠ ${JSON.stringify(general)}`,
        )
      }
      if (
        decoded.kind === 'put' &&
        !Object.is(decoded.balance.saldo, (general as typeof decoded).balance.saldo)
      )
        throw new Error(
          `${value}: saldo ${decoded.balance.saldo} ≠ ${(general as typeof decoded).balance.saldo}`,
        )
      if (decodeCommonRecord(keyBytes, valueBytes)) common++
      // Read in place, between bytes that would complete a cut-off value: the same answer.
      const around = pickAround(next)
      const batch = Buffer.concat([bytes(around), keyBytes, bytes(around), valueBytes, bytes(around)])
      const keyStart = Buffer.byteLength(around)
      const valueStart = keyStart * 2 + keyBytes.length
      const inPlace = decodeCommonRecordIn(
        batch,
        keyStart,
        keyBytes.length,
        batch,
        valueStart,
        valueStart + valueBytes.length,
      )
      if (!Bun.deepEquals(inPlace, decodeCommonRecord(keyBytes, valueBytes), true))
        throw new Error(
          `in place ${JSON.stringify(key)} ${JSON.stringify(value)} between ${JSON.stringify(around)}: ${JSON.stringify(inPlace)}`,
        )
    }
    // Most of them are balances, and the common path read them: the comparison is not empty.
    expect(common).toBeGreaterThan(8_000)
  })
})
