import { apiHelp, apiUsage, parseApiArgs } from '../cli/api-args.ts'
import { commandOrExit, configOrExit } from '../cli/exit.ts'
import { ListenError } from '../http/listen-error.ts'
import { createLogger } from '../log.ts'
import { createService } from '../service.ts'
import { StateDirError } from '../store/errors.ts'

const PROGRAM = 'saldo-api'
if (commandOrExit(PROGRAM, apiUsage(), () => parseApiArgs(process.argv.slice(2))).help) {
  process.stdout.write(`${apiHelp()}\n`)
  process.exit(0)
}

function serviceOrExit() {
  try {
    return createService(config, log)
  } catch (error) {
    if (!(error instanceof StateDirError)) throw error
    log.error(error.message)
    process.exit(1)
  }
}

const config = configOrExit(PROGRAM)
const log = createLogger(config, { service: PROGRAM })
const service = serviceOrExit()
try {
  service.start()
} catch (error) {
  if (!(error instanceof ListenError)) throw error
  log.error(error.message)
  process.exit(1)
}

let stopping = false
async function shutdown(signal: string) {
  if (stopping) {
    log.warn('second signal; exiting now', { signal })
    process.exit(1)
  }
  stopping = true
  log.info('shutting down', { signal })
  const deadline = setTimeout(() => {
    log.error('shutdown took too long; exiting', { timeoutMs: config.SHUTDOWN_TIMEOUT_MS })
    process.exit(1)
  }, config.SHUTDOWN_TIMEOUT_MS)
  await service.stop()
  clearTimeout(deadline)
  log.info('stopped')
  process.exit(0)
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))
