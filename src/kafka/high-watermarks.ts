/**
 * The latest end offset (high watermark) seen per partition: at boot from the admin client, then
 * from every fetched batch. Against the store's position it gives the lag while tailing, which the
 * end offsets fixed at boot for the replay cannot.
 */
export class HighWatermarks {
  readonly #ends = new Map<number, number>()

  observe(partition: number, endOffset: number): void {
    this.#ends.set(partition, endOffset)
  }

  /** partition → end offset, for every partition seen. */
  entries(): ReadonlyMap<number, number> {
    return this.#ends
  }
}
