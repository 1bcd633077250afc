import { type Static, Type } from '@sinclair/typebox'

/** A client's id: what the topic's key and the URL carry. */
export const ClienteId = Type.String({ minLength: 1, maxLength: 128, description: 'the client id' })

/** The public record: the topic's value and the 200 body of GET /saldo/:cliente_id. */
export const Balance = Type.Object({
  cliente_id: ClienteId,
  saldo: Type.Number({ description: 'the balance' }),
  timestamp: Type.String({ description: 'ISO-8601 time of the balance, e.g. 2025-10-14T10:30:45' }),
})
export type Balance = Static<typeof Balance>

/** Why a record from the topic was not applied; each is a label of the rejected-records metric. */
export const REJECT_REASONS = [
  'key_missing',
  'key_invalid',
  'value_too_large',
  'value_not_utf8',
  'value_not_json',
  'value_wrong_shape',
  'saldo_not_finite',
  'key_mismatch',
  'timestamp_invalid',
  // Not decodeRecord's: the materializer's, for a key on another partition than murmur2 puts it on
  // (FOREIGN_PARTITION=reject).
  'foreign_partition',
] as const
export type RejectReason = (typeof REJECT_REASONS)[number]

export type Decoded =
  | { kind: 'put'; balance: Balance }
  | { kind: 'delete'; clienteId: string }
  | { kind: 'reject'; reason: RejectReason; detail: string }

/** A balance JSON is under 200 bytes; anything far larger is not one of ours. */
export const MAX_VALUE_BYTES = 64 * 1024
export const MAX_ID_BYTES = 128

// Date and time, optional seconds and fraction, optional zone: 2025-10-14T10:30:45, …45.123Z, …45+01:00.
// The ranges (month 01-12, day 01-31, hour 00-23, minute 00-59, second 00-60, zone ±00:00-23:59) are
// in the pattern itself: one test per record, no captures or numbers to build (it runs for every
// record replayed). Days past 28 are then checked against their month in isIsoTimestamp.
const ISO_8601 =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[T ](?:[01]\d|2[0-3]):[0-5]\d(?::(?:[0-5]\d|60)(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?$/
// C0, DEL and C1 (U+0080-U+009F): invisible, and some (NEL U+0085) end lines in logs and terminals.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this rejects
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

const MONTHS_OF_31 = new Set([1, 3, 5, 7, 8, 10, 12])

/** The digits at `at` and `at + 1` of text the pattern matched, as a number. */
const twoDigits = (text: string, at: number) => (text.charCodeAt(at) - 48) * 10 + text.charCodeAt(at + 1) - 48

/** ISO-8601 date and time of a real calendar day: no 2025-02-29, no 2025-04-31. */
export function isIsoTimestamp(text: string): boolean {
  if (!ISO_8601.test(text)) return false
  const day = twoDigits(text, 8)
  // Every month has 28 days: the common case costs two character reads.
  if (day <= 28) return true
  const month = twoDigits(text, 5)
  if (month !== 2) return day <= 30 || MONTHS_OF_31.has(month)
  const year = twoDigits(text, 0) * 100 + twoDigits(text, 2)
  return day === 29 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
}

/** Why an id is unusable, or undefined when it is fine. Shared by the topic's keys and the URL. */
export function clienteIdProblem(id: string): string | undefined {
  if (id.length === 0) return 'cliente_id is empty'
  if (Buffer.byteLength(id) > MAX_ID_BYTES) return `cliente_id is longer than ${MAX_ID_BYTES} bytes`
  if (CONTROL.test(id)) return 'cliente_id contains control characters'
  return undefined
}
