import { commandOrExit, configOrExit } from '../cli/exit.ts'
import { lines } from '../cli/lines.ts'
import { movementLine, sendMovement } from '../cli/movement-client.ts'
import { runProduce } from '../cli/produce.ts'
import { parseProduceArgs, produceHelp, produceUsage } from '../cli/produce-args.ts'
import { BalanceProducer } from '../kafka/producer.ts'
import { createLogger } from '../log.ts'

const PROGRAM = 'saldo-produce'

const command = commandOrExit(PROGRAM, produceUsage(), () => parseProduceArgs(process.argv.slice(2)))
if (command.mode === 'help') {
  process.stdout.write(`${produceHelp()}\n`)
  process.exit(0)
}
const config = configOrExit(PROGRAM)

// A credit or debit goes through saldo-api (which decides it against the floor), not to Kafka.
if (command.mode === 'movement') {
  try {
    const outcome = await sendMovement(command.clienteId, command.valor, {
      url: command.api ?? config.SALDO_API_URL,
      token: config.SALDO_API_TOKEN,
      onRetry: (reason, waitMs) =>
        process.stderr.write(
          `${PROGRAM}: ${reason}; retrying in ${waitMs} ms with the same Idempotency-Key\n`,
        ),
    })
    const { ok, text } = movementLine(outcome)
    if (ok) process.stdout.write(`${text}\n`)
    else process.stderr.write(`${PROGRAM}: ${text}\n`)
    process.exit(ok ? 0 : 1)
  } catch (error) {
    process.stderr.write(`${PROGRAM}: ${(error as Error).message}\n`)
    process.exit(1)
  }
}

const log = createLogger(config, { service: PROGRAM })

const producer = await BalanceProducer.connect(config, log).catch((error: Error) => {
  process.stderr.write(
    `${PROGRAM}: cannot reach Kafka at ${config.BOOTSTRAP_SERVERS} (${error.message}); ` +
      'start a broker (scripts/kafka.sh start) or set BOOTSTRAP_SERVERS\n',
  )
  process.exit(1)
})

// Ctrl-C during --count stops generating and waits for the sends in flight; a second one exits at once.
const abort = new AbortController()
if (command.mode === 'bulk') {
  process.on('SIGINT', () => {
    if (abort.signal.aborted) process.exit(130)
    abort.abort()
  })
}

// A prompt on a terminal stays on the line being typed; through a pipe, nothing is echoed, so end the line.
const promptEnd = process.stdin.isTTY ? '' : '\n'
try {
  await runProduce(command, {
    producer,
    say: (line) => process.stdout.write(`${line}\n`),
    progress: process.stderr,
    signal: abort.signal,
    input: () => ({
      lines: lines(process.stdin),
      prompt: (text) => process.stdout.write(`${text}${promptEnd}`),
      complain: (text) => process.stderr.write(`${text}\n`),
    }),
  })
  // Stopped by Ctrl-C: what was sent is acknowledged, but the run is not complete.
  if (abort.signal.aborted) process.exitCode = 130
} catch (error) {
  process.stderr.write(`${PROGRAM}: ${(error as Error).message}\n`)
  process.exitCode = 1
} finally {
  await producer.disconnect()
}
