export interface ProgressStream {
  isTTY?: boolean
  write(text: string): unknown
}

const BAR_WIDTH = 30
const TTY_REDRAW_MS = 100

const count = (n: number) => Math.round(n).toLocaleString('en-US')

/** `523,000/1,000,000 (52%) · 180,000 records/s · ETA 3s`: where a run of `total` records stands. */
export function progressText(done: number, total: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0
  const percent = total > 0 ? Math.floor((done * 100) / total) : 100
  const eta = done >= total ? '0s' : rate > 0 ? `${Math.ceil((total - done) / rate)}s` : '?'
  return `${count(done)}/${count(total)} (${percent}%) · ${count(rate)} records/s · ETA ${eta}`
}

/** A bar of BAR_WIDTH cells, filled in proportion to done/total. */
export function progressBar(done: number, total: number): string {
  const filled = total > 0 ? Math.min(BAR_WIDTH, Math.floor((done * BAR_WIDTH) / total)) : BAR_WIDTH
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`
}

/**
 * Reports a run's progress on `stream`: a bar redrawn in place on a terminal, otherwise a plain line
 * every `lineIntervalMs`, so that logs and pipes get readable lines instead of carriage returns.
 */
export function createProgress(total: number, stream: ProgressStream, lineIntervalMs = 2_000) {
  const startedAt = performance.now()
  const tty = stream.isTTY === true
  let shownAt = startedAt
  let last = 0
  const show = (done: number, final: boolean) => {
    const text = progressText(done, total, performance.now() - startedAt)
    if (tty) stream.write(`\r\x1b[K${progressBar(done, total)} ${text}${final ? '\n' : ''}`)
    else stream.write(`progress: ${text}\n`)
    shownAt = performance.now()
  }
  return {
    update(done: number): void {
      last = done
      if (performance.now() - shownAt >= (tty ? TTY_REDRAW_MS : lineIntervalMs)) show(done, false)
    },
    /** Shows the final state; on a terminal, ends the bar's line. */
    finish(): void {
      show(last, true)
    },
  }
}
