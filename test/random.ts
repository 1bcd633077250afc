// The one source of random test data. A failing test says its seed; TEST_SEED=<seed> replays it:
//   TEST_SEED=123456789 bun test test/integration/persistence.test.ts -t 'replay'
import { it, type TestOptions } from 'bun:test'
import { onCleanup } from './setup.ts'

const MAX_SEED = 2 ** 32

function parseSeed(text: string | undefined): number {
  // The only unseeded draw: the seed itself, when none is given.
  if (text === undefined || text === '') return Math.floor(Math.random() * MAX_SEED)
  if (!/^\d+$/.test(text) || Number(text) >= MAX_SEED) {
    throw new Error(
      `TEST_SEED=${JSON.stringify(text)}: expected an integer 0..${MAX_SEED - 1}, as a failed test printed it`,
    )
  }
  return Number(text)
}

/** This run's seed: TEST_SEED, or a fresh one. */
export const TEST_SEED = parseSeed(process.env.TEST_SEED)

/** mulberry32: 32 bits of state, fast, and evenly spread enough for test data. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / MAX_SEED
  }
}

let next: (() => number) | undefined

/** A number in [0, 1) from the seeded stream: test data draws from this, never from Math.random. */
export function random(): number {
  if (!next)
    throw new Error(
      'random() outside a seededIt test: import seededIt as it, so that a failure tells its seed',
    )
  return next()
}

/** An integer in [0, n). */
export const randomInt = (n: number): number => Math.floor(random() * n)

/**
 * bun:test's `it` for tests that draw random data; a file whose tests do imports it as `it`. The stream
 * restarts from TEST_SEED when each test starts, so a test replays alone (`-t`) or among others; when
 * it fails, or times out, it prints the seed and the command that replays it.
 */
export function seededIt(name: string, body: () => unknown, options?: number | TestOptions): void {
  const replay = `test data drawn from TEST_SEED=${TEST_SEED}; replay with TEST_SEED=${TEST_SEED} bun test <this file> -t ${JSON.stringify(name)}`
  it(
    name,
    async () => {
      const stream = mulberry32(TEST_SEED)
      next = stream
      let settled = false
      // A timeout abandons the body: the cleanups still run, and see it unfinished.
      onCleanup(() => {
        if (!settled) console.error(replay)
      })
      try {
        await body()
      } catch (error) {
        console.error(replay)
        throw error
      } finally {
        settled = true
        if (next === stream) next = undefined
      }
    },
    options,
  )
}
