import { formatPosition, type Position, reaches } from './position.ts'
import type { BalanceStore } from './store.ts'

interface Waiter {
  wanted: Position
  resolve: (reached: boolean) => void
  timer: ReturnType<typeof setTimeout>
}

/** What has a position: the balance store, the movements index. */
type Positioned = Pick<BalanceStore, 'position' | 'positions'>

/**
 * Lets readers wait until the store reaches a position (read-your-writes), and keeps the store's
 * position as header text. Its reader (the materializer, the movements tail) calls `applied()` after every batch; nothing here
 * polls, and a waiter costs nothing until a batch arrives.
 */
export class PositionWatch {
  readonly #store: Positioned
  readonly #waiters = new Set<Waiter>()
  #text: string | undefined

  constructor(store: Positioned) {
    this.#store = store
  }

  /** The store's position as `partition:offset,…`, computed once per applied batch. */
  get text(): string {
    this.#text ??= formatPosition(this.#store.positions())
    return this.#text
  }

  applied(): void {
    this.#text = undefined
    for (const waiter of this.#waiters) {
      if (this.#reached(waiter.wanted)) this.#settle(waiter, true)
    }
  }

  /** Resolves true once the store reaches `wanted`, or false after `timeoutMs`. */
  waitFor(wanted: Position, timeoutMs: number): Promise<boolean> {
    if (this.#reached(wanted)) return Promise.resolve(true)
    return new Promise((resolve) => {
      const waiter: Waiter = {
        wanted,
        resolve,
        timer: setTimeout(() => this.#settle(waiter, false), timeoutMs),
      }
      this.#waiters.add(waiter)
    })
  }

  #reached(wanted: Position): boolean {
    return reaches((partition) => this.#store.position(partition), wanted)
  }

  #settle(waiter: Waiter, reached: boolean): void {
    clearTimeout(waiter.timer)
    this.#waiters.delete(waiter)
    waiter.resolve(reached)
  }
}
