// Preloaded by `bun test` (bunfig.toml [test] preload). bun test evaluates a module once per run, and
// a hook declared at the top of an imported helper attaches only to the first test file that imports
// it: the cleanups of every other file would never run. A preloaded hook applies to every test.
import { afterEach } from 'bun:test'

const cleanups: Array<() => unknown> = []

/** Registers `fn` to run after the current test, newest first, even when the test failed. */
export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn)
}

// Every cleanup runs even when an earlier one fails (a stuck service must not leave a broker running).
afterEach(async () => {
  const failures: unknown[] = []
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn()
    } catch (error) {
      failures.push(error)
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, `${failures.length} cleanup(s) failed`)
})
