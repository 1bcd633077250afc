import { ConfigError, loadConfig } from '../config.ts'
import { createLogger } from '../log.ts'
import { createService } from '../service.ts'
import { StateDirError } from '../store/errors.ts'

function configOrExit() {
  try {
    return loadConfig()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`saldo-api: ${error.message}\n`)
    process.exit(2)
  }
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

const config = configOrExit()
const log = createLogger(config, { service: 'saldo-api' })
const service = serviceOrExit()
service.start()

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
