/**
 * Runs tasks one after another per partition: each starts once the partition's previous one has
 * settled, failed or not. A partition's entry goes with its last task, so idle partitions cost nothing.
 */
export class PartitionQueue {
  /** Per partition, settles when its last queued task has. */
  readonly #tails = new Map<number, Promise<unknown>>()

  run<T>(partition: number, task: () => Promise<T>): Promise<T> {
    const result = (this.#tails.get(partition) ?? Promise.resolve()).then(task)
    const settled = result.then(
      () => {},
      () => {},
    )
    this.#tails.set(partition, settled)
    void settled.then(() => {
      if (this.#tails.get(partition) === settled) this.#tails.delete(partition)
    })
    return result
  }

  /** Settles once every task queued so far has. */
  idle(): Promise<unknown> {
    return Promise.all(this.#tails.values())
  }
}
