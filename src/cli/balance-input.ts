import { clienteIdProblem } from '../balance.ts'
import { valorProblem } from '../movements/money.ts'

/** A value typed by a person: either usable, or the reason it is not, said so they can fix it. */
export type Input<T> = { ok: true; value: T } | { ok: false; problem: string }

/** A cliente_id, by the same rule the API and the materializer apply to keys. */
export function readClienteId(text: string): Input<string> {
  const problem = clienteIdProblem(text)
  if (problem) return { ok: false, problem: `${problem}; use 1 to 128 bytes without control characters` }
  return { ok: true, value: text }
}

// Plain decimal notation only: Number() would also take '', '0x1f' and ' 1 ', which nobody means as a saldo.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i

/** A saldo: a finite number (the materializer rejects any other), written with a dot for decimals. */
export function readSaldo(text: string): Input<number> {
  const saldo = DECIMAL.test(text) ? Number(text) : Number.NaN
  if (Number.isFinite(saldo)) return { ok: true, value: saldo }
  const hint = /^[+-]?\d+,\d+$/.test(text) ? ' (use a dot for decimals: 150.5)' : ''
  return {
    ok: false,
    problem: `saldo ${JSON.stringify(text)} is not a finite number${hint}; e.g. 150, -20.5`,
  }
}

/** A whole number of at least 1, for counts and rates. */
export function readPositiveInteger(name: string, text: string): Input<number> {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (Number.isSafeInteger(value) && value >= 1) return { ok: true, value }
  return { ok: false, problem: `${name} ${JSON.stringify(text)} is not a whole number of at least 1` }
}

/** The amount of a --credit or --debit: a number above 0, in cents at most (the sign is the option's). */
export function readValor(text: string): Input<number> {
  const read = readSaldo(text)
  if (!read.ok) return { ok: false, problem: read.problem.replace(/^saldo/, 'valor') }
  const problem =
    read.value <= 0
      ? `valor ${text} is not above 0; the option says credit or debit`
      : valorProblem(read.value)
  return problem ? { ok: false, problem } : read
}
