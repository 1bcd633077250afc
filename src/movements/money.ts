/**
 * Money in a JSON number without float drift. A valor has at most 2 decimal places (cents); a saldo
 * may have more (PUT takes any finite number). A sum is rounded to the decimal places of its most
 * precise operand, so 0.1 + 0.2 is 0.3 and 1.2345 + 1 is 2.2345: exactly the decimal sum whenever the
 * operands are short decimals, which every amount of money is.
 */

/** More places than this is noise of a binary fraction (0.30000000000000004 has 17), not money. */
const MAX_PLACES = 20

/** The decimal places of a number as JavaScript prints it (1e-7 has 7). */
function places(x: number): number {
  const [mantissa = '', exponent = '0'] = String(Math.abs(x)).split('e')
  const fraction = mantissa.split('.')[1]?.length ?? 0
  return Math.min(MAX_PLACES, Math.max(0, fraction - Number(exponent)))
}

/** Why `valor` cannot be a movement's amount, or undefined when it can. */
export function valorProblem(valor: number): string | undefined {
  if (valor === 0) return 'valor is 0; send a credit (> 0) or a debit (< 0)'
  if (places(valor) > 2)
    return `valor ${valor} has more than 2 decimal places; send cents at most, e.g. 10.25`
  return undefined
}

/** a + b as a decimal sum (see above). */
export function addMoney(a: number, b: number): number {
  return Number((a + b).toFixed(Math.max(places(a), places(b))))
}
