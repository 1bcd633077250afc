/**
 * The latest end offset (high watermark) seen per partition: at boot from the admin client, then
 * from every fetched batch. Against the store's position it gives the lag while tailing, which the
 * end offsets fixed at boot for the replay cannot.
 */
export class HighWatermarks {
  readonly #ends = new Map<number, number>()

  /** Starts over from the end offsets of the topic as it is now: a partition that is gone is forgotten. */
  reset(ends: ReadonlyMap<number, number>): void {
    this.#ends.clear()
    for (const [partition, end] of ends) this.#ends.set(partition, end)
  }

  observe(partition: number, endOffset: number): void {
    this.#ends.set(partition, endOffset)
  }

  /** MODE=partitioned: a partition this instance no longer reads has no lag here. */
  forget(partition: number): void {
    this.#ends.delete(partition)
  }

  /** partition → end offset, for every partition seen. */
  entries(): ReadonlyMap<number, number> {
    return this.#ends
  }
}
