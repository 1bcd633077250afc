import { TypeCompiler } from '@sinclair/typebox/compiler'
import {
  Balance,
  clienteIdProblem,
  type Decoded,
  isIsoTimestamp,
  MAX_VALUE_BYTES,
  type RejectReason,
} from './balance.ts'
import { decodeCommonRecord, decodeCommonRecordIn } from './common-record.ts'

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })
const checkBalance = TypeCompiler.Compile(Balance)

/** UTF-8 text, or undefined when the bytes are not valid UTF-8. */
function utf8(bytes: Buffer): string | undefined {
  const text = bytes.toString('utf8')
  // toString replaces bad bytes with U+FFFD; only then pay for the strict decoder to tell them apart.
  if (!text.includes('\uFFFD')) return text
  try {
    return strictUtf8.decode(bytes)
  } catch {
    return undefined
  }
}

const reject = (reason: RejectReason, detail: string): Decoded => ({ kind: 'reject', reason, detail })

/**
 * Turns one Kafka record of the topic into a change: key = cliente_id, value = Balance JSON,
 * null value = delete. Never throws: anything else is a reject with its reason.
 */
export function decodeRecord(key: Buffer | null, value: Buffer | null): Decoded {
  return (key !== null && value !== null && decodeCommonRecord(key, value)) || decodeAnyRecord(key, value)
}

/**
 * A fetched record as kafkajs with saldo's patch hands it over: its key and value still in the
 * fetched bytes, from `keyStart` and `valueStart` (a length of -1 is null), and its offset as a
 * number (NaN when not exact); `key`, `value` and `offset` make a Buffer or text on first use.
 */
export interface RecordInPlace {
  readonly offsetNumber: number
  readonly bytes: Buffer
  readonly keyStart: number
  readonly keyLength: number
  readonly valueStart: number
  readonly valueLength: number
  readonly key: Buffer | null
  readonly value: Buffer | null
}

/** `decodeRecord` of a record read in place: the usual record costs no Buffer of its own. */
export function decodeRecordInPlace(record: RecordInPlace): Decoded {
  const { bytes, keyStart, keyLength, valueStart, valueLength } = record
  // A null value (length -1) ends before it starts: decodeCommonRecordIn leaves it to the general path.
  return (
    decodeCommonRecordIn(bytes, keyStart, keyLength, bytes, valueStart, valueStart + valueLength) ||
    decodeAnyRecord(record.key, record.value)
  )
}

/** `decodeRecord` by the general path alone: UTF-8, JSON.parse and the schema check. */
export function decodeAnyRecord(key: Buffer | null, value: Buffer | null): Decoded {
  if (key === null || key.length === 0) return reject('key_missing', 'the record has no key')
  const id = utf8(key)
  if (id === undefined) return reject('key_invalid', 'the key is not valid UTF-8')
  const idProblem = clienteIdProblem(id)
  if (idProblem) return reject('key_invalid', idProblem)
  if (value === null) return { kind: 'delete', clienteId: id }
  if (value.length > MAX_VALUE_BYTES) {
    return reject('value_too_large', `the value has ${value.length} bytes; at most ${MAX_VALUE_BYTES}`)
  }
  const text = utf8(value)
  if (text === undefined) return reject('value_not_utf8', 'the value is not valid UTF-8')
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    return reject('value_not_json', (error as Error).message)
  }
  // JSON has no NaN or Infinity, but 1e999 parses to Infinity; the schema check would call that a wrong type.
  const saldo = (parsed as { saldo?: unknown } | null)?.saldo
  if (typeof saldo === 'number' && !Number.isFinite(saldo))
    return reject('saldo_not_finite', `saldo is ${saldo}`)
  if (!checkBalance.Check(parsed)) {
    const first = checkBalance.Errors(parsed).First()
    return reject('value_wrong_shape', first ? `${first.path || '/'}: ${first.message}` : 'not a balance')
  }
  if (parsed.cliente_id !== id) {
    return reject(
      'key_mismatch',
      `key ${JSON.stringify(id)} ≠ cliente_id ${JSON.stringify(parsed.cliente_id)}`,
    )
  }
  if (!isIsoTimestamp(parsed.timestamp)) {
    return reject('timestamp_invalid', `timestamp ${JSON.stringify(parsed.timestamp)} is not ISO-8601`)
  }
  // Only the public fields: extra fields a producer adds are not part of the contract.
  return { kind: 'put', balance: { cliente_id: id, saldo: parsed.saldo, timestamp: parsed.timestamp } }
}
