/**
 * The life of a Kafka reader that reconnects (the materializer, the movements tail): its body runs
 * sessions until `stopping`, pausing between them; `stop` cuts a pause short, ends the current session
 * and waits for the body to return.
 */
export class SessionLoop {
  #stopping = false
  #running: Promise<void> | undefined
  #wake: (() => void) | undefined

  get stopping(): boolean {
    return this.#stopping
  }

  /** Runs `body` once, in the background; a second start does nothing. */
  start(body: () => Promise<void>): void {
    this.#running ??= body()
  }

  /** `disconnect` ends the session in progress (e.g. the consumer's disconnect). */
  async stop(disconnect: () => Promise<void> | undefined): Promise<void> {
    this.#stopping = true
    this.#wake?.()
    await disconnect()
    await this.#running
  }

  /** Waits `ms` between two sessions, or less when stop() comes first. */
  pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.#wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }
}
