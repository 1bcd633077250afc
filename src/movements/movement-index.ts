import type { Position } from '../store/position.ts'
import type { Movement } from './movement.ts'

/** Movements listed per client: GET /saldo/:cliente_id/movimentos shows at most these, newest first. */
export const RECENT_PER_CLIENT = 100

/** A movement as the index keeps it, with the time Kafka stored it (what retention goes by). */
export interface Kept {
  movement: Movement
  /** The record's timestamp, ms since the epoch. */
  at: number
}

interface ClientMovements {
  /** The last RECENT_PER_CLIENT movements, oldest first. */
  recent: Kept[]
  /** Idempotency-Key → the movement it made, for every key of the retention window. */
  keys: Map<string, Kept>
}

/**
 * What this instance knows of MOVEMENTS_TOPIC, rebuilt from it at every start: per client its recent
 * movements and the Idempotency-Keys of the last `retentionMs` (the topic's retention, so a key is
 * remembered as long as the topic keeps its movement, and at least that long), and per partition its
 * position (the next offset to read), so a writer can wait until its own append is applied here.
 *
 * Memory: one entry per movement of the retention window (about 0.66 KB of RSS each with a UUID key
 * and a short descricao, measured over 500,000; see README), whatever the number of clients; the
 * recent lists hold the same objects. Keys older than the window are dropped as newer movements are
 * applied.
 */
export class MovementIndex {
  readonly #retentionMs: number
  readonly #now: () => number
  readonly #clients = new Map<string, ClientMovements>()
  /** Every kept key in the order it was applied (≈ time order): the expired ones are at the front. */
  readonly #byAge = new Map<Kept, string>()
  readonly #positions = new Map<number, number>()
  /** Per partition, the end offset to reach before the index answers for it; undefined: not begun. */
  #goal: ReadonlyMap<number, number> | undefined
  #ready = false

  constructor(retentionMs: number, now: () => number = Date.now) {
    this.#retentionMs = retentionMs
    this.#now = now
  }

  /** Starts a replay: `from` the first offsets still in the topic, up to `ends` (the end offsets now). */
  begin(from: Position, ends: Position): void {
    for (const [partition, offset] of from)
      this.#positions.set(partition, Math.max(offset, this.position(partition)))
    this.#goal = ends
    this.#checkReady()
  }

  /** True once every partition was read up to the end offsets seen at `begin`, and from then on. */
  get ready(): boolean {
    return this.#ready
  }

  /** What is left to read before `ready`: `partition:position/end` of each partition behind. */
  behind(): string {
    const goal = this.#goal
    if (!goal) return 'the movements topic is not read yet'
    return [...goal]
      .filter(([partition, end]) => this.position(partition) < end)
      .map(([partition, end]) => `${partition}:${this.position(partition)}/${end}`)
      .join(' ')
  }

  position(partition: number): number {
    return this.#positions.get(partition) ?? 0
  }

  positions(): Position {
    return this.#positions
  }

  /** Applies one batch of a partition, in offset order, and moves its position to `nextOffset`. */
  apply(partition: number, movements: readonly Kept[], nextOffset: number): void {
    for (const kept of movements) {
      const id = kept.movement.cliente_id
      let client = this.#clients.get(id)
      if (!client) {
        client = { recent: [], keys: new Map() }
        this.#clients.set(id, client)
      }
      const first = client.keys.get(kept.movement.idempotency_key)
      // The same record again (a producer's retry appended it twice after a leader change): one
      // movement, listed once.
      if (first && JSON.stringify(first.movement) === JSON.stringify(kept.movement)) continue
      client.recent.push(kept)
      if (client.recent.length > RECENT_PER_CLIENT) client.recent.shift()
      // The first movement of a key is the one that answered; a different one under the same key
      // (a producer bypassing saldo) is listed but does not replace it.
      if (!first) {
        client.keys.set(kept.movement.idempotency_key, kept)
        this.#byAge.set(kept, id)
      }
    }
    this.#positions.set(partition, Math.max(nextOffset, this.position(partition)))
    this.#sweep(this.#now() - this.#retentionMs)
    this.#checkReady()
  }

  /** The movement a client's Idempotency-Key made within the retention window, if any. */
  find(clienteId: string, idempotencyKey: string): Movement | undefined {
    return this.#clients.get(clienteId)?.keys.get(idempotencyKey)?.movement
  }

  /** A client's last `limit` movements, newest first; undefined when it has none. */
  recent(clienteId: string, limit: number): Movement[] | undefined {
    const recent = this.#clients.get(clienteId)?.recent
    if (!recent || recent.length === 0) return undefined
    return recent
      .slice(-limit)
      .reverse()
      .map((kept) => kept.movement)
  }

  /** How much is held: clients with movements, and Idempotency-Keys kept. */
  get size(): { clients: number; keys: number } {
    return { clients: this.#clients.size, keys: this.#byAge.size }
  }

  /** Drops the keys (and listed movements) stored before `cutoff` (ms since the epoch). */
  #sweep(cutoff: number): void {
    for (const [kept, id] of this.#byAge) {
      if (kept.at >= cutoff) return
      this.#byAge.delete(kept)
      const client = this.#clients.get(id)
      if (!client) continue
      client.keys.delete(kept.movement.idempotency_key)
      while (client.recent.length > 0 && (client.recent[0] as Kept).at < cutoff) client.recent.shift()
      if (client.keys.size === 0 && client.recent.length === 0) this.#clients.delete(id)
    }
  }

  #checkReady(): void {
    if (this.#ready || !this.#goal) return
    for (const [partition, end] of this.#goal) if (this.position(partition) < end) return
    this.#ready = true
  }
}
