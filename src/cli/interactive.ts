import { type Input, readClienteId, readSaldo } from './balance-input.ts'

export interface InteractiveIO {
  /** The person's answers, one per line. */
  lines: AsyncIterator<string>
  /** Asks for the next answer. */
  prompt(text: string): void
  /** Says why an answer was refused. */
  complain(text: string): void
}

const STOP = 'exit'

/**
 * Asks for a cliente_id and a saldo, hands each valid pair to `send`, and repeats until `exit` or the
 * end of the input. A refused answer is explained and asked again, so one typo costs one line.
 * Resolves with the number of balances sent.
 */
export async function runInteractive(
  io: InteractiveIO,
  send: (clienteId: string, saldo: number) => Promise<void>,
): Promise<number> {
  const ask = async <T>(question: string, read: (text: string) => Input<T>): Promise<T | undefined> => {
    for (;;) {
      io.prompt(question)
      const next = await io.lines.next()
      if (next.done) return undefined
      const answer = next.value.trim()
      if (answer === STOP) return undefined
      const input = read(answer)
      if (input.ok) return input.value
      io.complain(input.problem)
    }
  }
  let sent = 0
  for (;;) {
    const clienteId = await ask('cliente_id> ', readClienteId)
    if (clienteId === undefined) return sent
    const saldo = await ask('saldo> ', readSaldo)
    if (saldo === undefined) return sent
    await send(clienteId, saldo)
    sent++
  }
}
