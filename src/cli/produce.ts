import type { Message } from 'kafkajs'
import { sendBulk } from '../kafka/bulk.ts'
import { balanceAt, balanceMessage, type Placement, tombstoneMessage } from '../kafka/producer.ts'
import { type InteractiveIO, runInteractive } from './interactive.ts'
import type { ProduceCommand } from './produce-args.ts'
import { createProgress, type ProgressStream } from './progress.ts'

/** The demo data: a handful of clients, ids 1..5. */
export const DEMO_BALANCES: ReadonlyArray<readonly [string, number]> = [
  ['1', 150],
  ['2', 2500.5],
  ['3', 300],
  ['4', -42.75],
  ['5', 1_000_000],
]

export interface ProduceDeps {
  producer: {
    readonly topic: string
    send(message: Message): Promise<Placement>
    sendBatch(messages: Message[]): Promise<void>
  }
  /** Results, one line each (stdout). */
  say(line: string): void
  /** Where progress goes (stderr): a bar when it is a terminal. */
  progress: ProgressStream
  /** Input for --interactive (stdin). */
  input: () => InteractiveIO
  /** Stops --count early (Ctrl-C). */
  signal?: AbortSignal
}

/** Runs one command of saldo-produce against a connected producer (--help and movements need none). */
export async function runProduce(
  command: Exclude<ProduceCommand, { mode: 'help' | 'movement' }>,
  deps: ProduceDeps,
): Promise<void> {
  const { producer, say } = deps
  const put = async (clienteId: string, saldo: number) => {
    const balance = balanceAt(clienteId, saldo)
    const { partition, offset } = await producer.send(balanceMessage(balance))
    say(`${JSON.stringify(balance)} → partition ${partition}, offset ${offset}`)
  }
  switch (command.mode) {
    case 'create-topic':
      say(`topic ${producer.topic} is ready`)
      return
    case 'demo':
      for (const [clienteId, saldo] of DEMO_BALANCES) await put(clienteId, saldo)
      return
    case 'set':
      return put(command.clienteId, command.saldo)
    case 'delete': {
      const { partition, offset } = await producer.send(tombstoneMessage(command.clienteId))
      say(
        `tombstone for cliente_id ${JSON.stringify(command.clienteId)} → partition ${partition}, offset ${offset}`,
      )
      return
    }
    case 'interactive': {
      const sent = await runInteractive(deps.input(), put)
      say(`sent ${sent} balance${sent === 1 ? '' : 's'}`)
      return
    }
    case 'bulk': {
      const progress = createProgress(command.count, deps.progress)
      const result = await sendBulk((messages) => producer.sendBatch(messages), {
        ...command,
        signal: deps.signal,
        onProgress: progress.update,
      }).finally(progress.finish)
      const seconds = result.ms / 1000
      say(
        `sent ${result.sent} records over ${Math.min(command.keys, result.sent)} keys to ${producer.topic} ` +
          `in ${seconds.toFixed(1)} s (${Math.round(result.sent / seconds)} records/s)`,
      )
    }
  }
}
