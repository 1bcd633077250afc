import type {
  OwnershipChange,
  OwnershipSource,
  OwnershipStatus,
  PartitionOwner,
} from '../../src/ownership/models.ts'

/**
 * An owner map set by the test (partition → owner URL) instead of a Kafka group: what the HTTP layer
 * sees of ownership, for apps under app.handle. `set(undefined)` is a rebalance in progress.
 */
export class StaticOwnership implements OwnershipSource {
  generation = 1
  assignments = 1
  readonly #listeners: Array<(change: OwnershipChange) => void> = []
  #owners: ReadonlyMap<number, string> | undefined
  /** The owners of the last generation, kept through a rebalance as the ownership group keeps its map. */
  #lastOwners: ReadonlyMap<number, string>

  constructor(
    readonly url: string,
    owners: Record<number, string>,
  ) {
    this.#owners = new Map(Object.entries(owners).map(([p, url]) => [Number(p), url]))
    this.#lastOwners = this.#owners
  }

  /** A new generation with these owners (undefined: rebalancing); listeners are told as the group tells them. */
  set(owners: Record<number, string> | undefined): void {
    const before = this.owned()
    this.#owners = owners && new Map(Object.entries(owners).map(([p, url]) => [Number(p), url]))
    if (this.#owners) {
      this.generation++
      this.#lastOwners = this.#owners
    }
    const after = this.owned()
    const change = {
      generation: this.generation,
      gained: [...after].filter((p) => !before.has(p)),
      lost: [...before].filter((p) => !after.has(p)),
    }
    for (const listener of this.#listeners) listener(change)
  }

  owned(): ReadonlySet<number> {
    return new Set([...(this.#owners ?? [])].filter(([, url]) => url === this.url).map(([p]) => p))
  }

  /** partition → the URLs of its standbys (MODE=partitioned). */
  standbys: Record<number, string[]> = {}

  standbysOf(partition: number): PartitionOwner[] {
    if (this.#owners === undefined) return []
    return (this.standbys[partition] ?? []).map((url) => this.#member(url) as PartitionOwner)
  }

  ownerOf(partition: number): PartitionOwner | undefined {
    return this.#member(this.#owners?.get(partition))
  }

  holdersOf(partition: number): PartitionOwner[] {
    const owner = this.#member((this.#owners ?? this.#lastOwners).get(partition))
    const standbys = (this.standbys[partition] ?? []).map((url) => this.#member(url) as PartitionOwner)
    return [...(owner ? [owner] : []), ...standbys]
  }

  #member(url: string | undefined): PartitionOwner | undefined {
    return url === undefined ? undefined : { memberId: url, url, self: url === this.url }
  }

  onChange(listener: (change: OwnershipChange) => void): void {
    this.#listeners.push(listener)
  }

  status(): OwnershipStatus {
    return {
      group: 'consulta-saldo.ownership.contas',
      url: this.url,
      mode: 'replica',
      generation: this.generation,
      rebalancing: this.#owners === undefined,
      owned: [...this.owned()].sort((a, b) => a - b),
      standbys: [],
      owners: [...(this.#owners ?? [])].map(([partition]) => ({
        partition,
        ...(this.ownerOf(partition) as PartitionOwner),
        standbys: [],
      })),
    }
  }
}
