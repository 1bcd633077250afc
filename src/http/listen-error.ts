/** The HTTP port cannot be bound. The message names HOST:PORT and says what to do. */
export class ListenError extends Error {
  override readonly name = 'ListenError'
}

/** Bun's listen failure as a sentence for the operator (Bun's own says "Failed to start server"). */
export function listenError(error: unknown, host: string, port: number): ListenError {
  const where = `${host}:${port}`
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return new ListenError(
        `port in use: ${where} is taken by another process (another saldo-api?); stop it, or set PORT (or HOST) to a free one`,
      )
    case 'EADDRNOTAVAIL':
      return new ListenError(
        `cannot listen on ${where}: this machine has no such address; set HOST to one of its addresses, or 0.0.0.0`,
      )
    case 'EACCES':
      return new ListenError(
        `cannot listen on ${where}: permission denied (ports below 1024 need privileges); set PORT to 1024 or above`,
      )
    default:
      return new ListenError(`cannot listen on ${where}: ${(error as Error).message}; check PORT and HOST`)
  }
}
