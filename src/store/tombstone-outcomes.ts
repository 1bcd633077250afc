import { type BalanceStore, type Change, changeKey } from './store.ts'

/** A DELETE's view of its client's tombstones: was there a balance just before each? */
export interface TombstoneWatch {
  /** true: the store held a balance just before the tombstone at `partition:offset`; undefined: not seen. */
  existedBefore(partition: number, offset: number): boolean | undefined
  /** Stops watching; call it once the DELETE has answered. */
  close(): void
}

interface Watched {
  watchers: number
  /** `partition:offset` of each tombstone seen → whether the client had a balance just before it. */
  outcomes: Map<string, boolean>
}

/**
 * Whether a DELETE had something to delete, decided where its tombstone is applied, in log order:
 * a DELETE through an instance that has not yet applied the client's latest PUT must still answer
 * 200. Only clients with a DELETE waiting are watched, for as long as it waits, so the memory is
 * bounded by the DELETEs in flight, and a batch costs one size check when none is.
 */
export class TombstoneOutcomes {
  readonly #watched = new Map<string, Watched>()

  /** Starts watching `clienteId` (before its tombstone is written, so that none is missed). */
  watch(clienteId: string): TombstoneWatch {
    let entry = this.#watched.get(clienteId)
    if (!entry) {
      entry = { watchers: 0, outcomes: new Map() }
      this.#watched.set(clienteId, entry)
    }
    entry.watchers++
    const watched = entry
    let open = true
    return {
      existedBefore: (partition, offset) => watched.outcomes.get(`${partition}:${offset}`),
      close: () => {
        if (!open) return
        open = false
        if (--watched.watchers === 0) this.#watched.delete(clienteId)
      },
    }
  }

  /**
   * Called with each batch just before `store` applies it; `offsets[i]` is the offset of `changes[i]`.
   * A client may change several times in one batch: its state is followed change by change.
   */
  beforeApply(
    store: Pick<BalanceStore, 'get'>,
    partition: number,
    changes: readonly Change[],
    offsets: readonly number[],
  ): void {
    if (this.#watched.size === 0) return
    const present = new Map<string, boolean>()
    for (let i = 0; i < changes.length; i++) {
      const change = changes[i] as Change
      const key = changeKey(change)
      const watched = this.#watched.get(key)
      if (!watched) continue
      const before = present.get(key) ?? store.get(key) !== undefined
      if (change.kind === 'delete') watched.outcomes.set(`${partition}:${offsets[i]}`, before)
      present.set(key, change.kind === 'put')
    }
  }
}
