import { type Decoded, isIsoTimestamp, MAX_ID_BYTES, MAX_VALUE_BYTES } from './balance.ts'

/**
 * The record every producer of ours writes, read straight from its bytes: the key is 1-128 bytes
 * of printable ASCII, and the value is `{"cliente_id":…,"saldo":…,"timestamp":…}` in that order, with
 * the same id, plain ASCII strings without escapes, a number without an exponent and of at most 15
 * digits, and JSON whitespace anywhere between tokens (Python's `json.dumps` puts spaces). Anything
 * else returns undefined, and the full decoder (UTF-8, JSON.parse, the schema) judges it: this path
 * only ever accepts what that one accepts, with the same result, at about a sixth of its CPU (it runs
 * for every record replayed).
 */
export function decodeCommonRecord(key: Buffer, value: Buffer): Decoded | undefined {
  return decodeCommonRecordIn(key, 0, key.length, value, 0, value.length)
}

/**
 * `decodeCommonRecord` of a key and a value that sit in larger buffers (a fetched batch, read in
 * place): `key[keyStart, keyStart + keyLength)` and `value[valueStart, valueEnd)`. Nothing outside
 * those ranges is read.
 */
export function decodeCommonRecordIn(
  key: Buffer,
  keyStart: number,
  keyLength: number,
  value: Buffer,
  valueStart: number,
  valueEnd: number,
): Decoded | undefined {
  // A length of 0 (empty) or -1 (null, in place) is for the general path to judge.
  if (keyLength <= 0 || keyLength > MAX_ID_BYTES || valueEnd - valueStart > MAX_VALUE_BYTES) return undefined
  // The value ends with `}` (then whitespace): every scan below stops at a byte that cannot be `}`
  // or checks its bound, so none reads past it into the next record.
  let close = valueEnd - 1
  while (close >= valueStart && isSpace(value[close] as number)) close--
  if (close < valueStart || value[close] !== CLOSE_BRACE) return undefined
  let at = skipSpace(value, valueStart)
  if (value[at] !== OPEN_BRACE) return undefined
  at = field(value, at + 1, CLIENTE_ID)
  if (at < 0 || value[at] !== QUOTE) return undefined
  const idStart = at + 1
  if (idStart + keyLength >= close) return undefined
  // The id must be the key, byte for byte; a key of printable ASCII is its own UTF-8 and never a
  // control character.
  for (let i = 0; i < keyLength; i++) {
    const byte = key[keyStart + i] as number
    if (byte < 0x20 || byte > 0x7e || byte === QUOTE || byte === BACKSLASH) return undefined
    if (value[idStart + i] !== byte) return undefined
  }
  at = idStart + keyLength
  if (value[at] !== QUOTE) return undefined
  at = comma(value, at + 1)
  if (at < 0) return undefined
  at = field(value, at, SALDO)
  if (at < 0) return undefined
  const saldoEnd = scanNumber(value, at)
  if (saldoEnd < 0) return undefined
  const saldo = parsed
  at = comma(value, saldoEnd)
  if (at < 0) return undefined
  at = field(value, at, TIMESTAMP)
  if (at < 0 || value[at] !== QUOTE) return undefined
  const tsStart = at + 1
  for (at = tsStart; value[at] !== QUOTE; at++) {
    const byte = value[at] as number
    if (at >= close || byte < 0x20 || byte > 0x7e || byte === BACKSLASH) return undefined
  }
  if (skipSpace(value, at + 1) !== close) return undefined
  const timestamp = timestampText(value, tsStart, at)
  if (timestamp === undefined) return undefined
  const id = key.toString('latin1', keyStart, keyStart + keyLength)
  return { kind: 'put', balance: { cliente_id: id, saldo, timestamp } }
}

const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const COMMA = 0x2c
const MINUS = 0x2d
const DOT = 0x2e
const ZERO = 0x30
const NINE = 0x39
const CLIENTE_ID = Buffer.from('"cliente_id"')
const SALDO = Buffer.from('"saldo"')
const TIMESTAMP = Buffer.from('"timestamp"')
/** Below 2^53: every integer of 15 digits is exact in a double. */
const MAX_DIGITS = 15
/** 10^0 … 10^22, each exact in a double. */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, exponent) => 10 ** exponent)

/** The number `scanNumber` read last: a second return value without an object per record. */
let parsed = 0

/**
 * The last valid timestamp read, as bytes and as text. Consecutive records of a partition usually
 * carry the same one (a producer's clock in seconds or milliseconds against thousands of records per
 * second), and reusing it saves a string and the ISO check: about a tenth of a replay's CPU.
 */
const lastTimestampBytes = Buffer.alloc(64)
let lastTimestampLength = -1
let lastTimestamp = ''

/** The printable ASCII `bytes[start, end)` as a timestamp when it is a valid one, or undefined. */
function timestampText(bytes: Buffer, start: number, end: number): string | undefined {
  const length = end - start
  if (length === lastTimestampLength) {
    // From the end: timestamps that differ, differ in their last digits.
    let i = length - 1
    while (i >= 0 && bytes[start + i] === lastTimestampBytes[i]) i--
    if (i < 0) return lastTimestamp
  }
  const text = bytes.toString('latin1', start, end)
  if (!isIsoTimestamp(text)) return undefined
  if (length <= lastTimestampBytes.length) {
    for (let i = 0; i < length; i++) lastTimestampBytes[i] = bytes[start + i] as number
    lastTimestampLength = length
    lastTimestamp = text
  }
  return text
}

const isSpace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09

function skipSpace(bytes: Buffer, at: number): number {
  while (isSpace(bytes[at] as number)) at++
  return at
}

/** After whitespace, `name` then whitespace, `:` and whitespace: where the field's value starts, or -1. */
function field(bytes: Buffer, at: number, name: Buffer): number {
  at = skipSpace(bytes, at)
  for (let i = 0; i < name.length; i++) if (bytes[at + i] !== name[i]) return -1
  at = skipSpace(bytes, at + name.length)
  return bytes[at] === COLON ? skipSpace(bytes, at + 1) : -1
}

/** After whitespace, a `,`: the position after it, or -1. */
function comma(bytes: Buffer, at: number): number {
  at = skipSpace(bytes, at)
  return bytes[at] === COMMA ? at + 1 : -1
}

/**
 * A JSON number without an exponent, of at most 15 digits and 22 decimals, into `parsed`: its end,
 * or -1. The digits make an exact integer and 10^decimals is exact, so their quotient is the double
 * nearest the decimal, as JSON.parse gives (IEEE division rounds correctly).
 */
function scanNumber(bytes: Buffer, at: number): number {
  const negative = bytes[at] === MINUS
  if (negative) at++
  let mantissa = 0
  let digits = 0
  let byte = bytes[at] as number
  if (byte === ZERO) byte = bytes[++at] as number
  else if (byte > ZERO && byte <= NINE) {
    do {
      mantissa = mantissa * 10 + byte - ZERO
      digits++
      byte = bytes[++at] as number
    } while (byte >= ZERO && byte <= NINE)
  } else return -1
  let decimals = 0
  if (byte === DOT) {
    byte = bytes[++at] as number
    if (!(byte >= ZERO && byte <= NINE)) return -1
    do {
      mantissa = mantissa * 10 + byte - ZERO
      digits++
      decimals++
      byte = bytes[++at] as number
    } while (byte >= ZERO && byte <= NINE)
  }
  if (digits > MAX_DIGITS || decimals >= POWERS_OF_TEN.length) return -1
  const magnitude = mantissa / (POWERS_OF_TEN[decimals] as number)
  parsed = negative ? -magnitude : magnitude
  return at
}
