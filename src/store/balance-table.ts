import type { Balance } from '../balance.ts'
import { inKeyOrder, type KeyBytes } from './key-order.ts'
import { type Change, changeKey } from './store.ts'

const EMPTY = 0
const DELETED = -1
const MIN_CAPACITY = 1024
const MAX_FIELD_BYTES = 255
/** Where in the scratch buffer a timestamp is encoded: after the longest key and the byte that shows it too long. */
const TIMESTAMP_AT = MAX_FIELD_BYTES + 1
/** In `#records`, an entry that holds no key (deleted, on the free list). */
const FREE = 0xffffffff
/**
 * How many changes of a batch have their hash slots and entries read before any of them is applied.
 * Over 1M keys each read is a cache miss; issued together, the processor waits for them at once
 * instead of one after another (README, tuning notes).
 */
const READ_AHEAD = 32

/** What GET /saldo/:id answers for a key: its balance, and the record's version as an ETag. */
export interface BalanceAnswer {
  readonly balance: Balance
  readonly etag: string
}

/** A key's row as the snapshot writes it. */
export interface TableRow {
  readonly balance: Balance
  readonly partition: number
  readonly offset: number
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** FNV-1a over UTF-16 code units: cheap, and needs no encoding to find a slot. */
function hashOf(key: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193)
  return hash >>> 0
}

/**
 * The latest balance of every client in a few typed arrays instead of a Map of objects: about a
 * third of the memory per key. Open addressing (linear probing) over `#slots`, which hold entry
 * index + 1; each entry keeps its hash, its saldo, and where its key and timestamp sit in a byte
 * arena as [key length][key][timestamp length][timestamp]. An update whose timestamp has the same
 * length (the usual case) is written in place; other records leave garbage that is compacted away
 * once it is half the arena. Each entry also keeps the partition and offset of the record that set it:
 * its version, which HTTP names as an ETag (12 B per key).
 */
export class BalanceTable {
  #slots = new Int32Array(MIN_CAPACITY * 2)
  #hashes = new Uint32Array(MIN_CAPACITY)
  #saldos = new Float64Array(MIN_CAPACITY)
  #records = new Uint32Array(MIN_CAPACITY)
  #partitions = new Int32Array(MIN_CAPACITY)
  // Float64, not Uint32: an offset may pass 2^32; a double holds it exactly up to 2^53.
  #offsets = new Float64Array(MIN_CAPACITY)
  /** A Buffer rather than a bare Uint8Array: ASCII fields are read from it as Latin-1. */
  #arena = Buffer.alloc(MIN_CAPACITY * 32)
  #arenaUsed = 0
  #garbage = 0
  #entries = 0
  #tombstones = 0
  #free: number[] = []
  #size = 0
  /** Per entry, 1 once a put touched it since `clearMarks`; undefined unless `trackChanges` was called. */
  #marks: Uint8Array | undefined
  /** The entries marked, each once. */
  #marked: number[] = []
  /** A key at 0 and a timestamp at TIMESTAMP_AT, each with the byte that shows it too long. */
  readonly #scratch = new Uint8Array(TIMESTAMP_AT + MAX_FIELD_BYTES + 1)
  /** The timestamp whose bytes the scratch buffer holds at TIMESTAMP_AT, and their length. */
  #encodedTimestamp: string | undefined
  #encodedTimestampBytes = -1
  /** Where a key is encoded (one byte more than a field may have, to see it is too long), made once. */
  readonly #keyScratch = this.#scratch.subarray(0, MAX_FIELD_BYTES + 1)
  /** The hashes of the changes `#readAhead` read for. */
  readonly #aheadHashes = new Uint32Array(READ_AHEAD)
  /** What `#readAhead` read, stored so that no compiler drops the reads as unused. */
  readonly #aheadRead = new Float64Array(READ_AHEAD)

  get size(): number {
    return this.#size
  }

  get(key: string): Balance | undefined {
    const entry = this.#entryOf(key)
    return entry < 0 ? undefined : this.#balanceAt(entry, key)
  }

  /** The version of `key`'s record as a strong entity tag, `"partition-offset"`, or undefined. */
  etag(key: string): string | undefined {
    const entry = this.#entryOf(key)
    return entry < 0 ? undefined : this.#etagAt(entry)
  }

  /** `key`'s answer in one lookup, where `get` then `etag` made two. */
  answer(key: string): BalanceAnswer | undefined {
    const entry = this.#entryOf(key)
    return entry < 0 ? undefined : { balance: this.#balanceAt(entry, key), etag: this.#etagAt(entry) }
  }

  #etagAt(entry: number): string {
    return `"${this.#partitions[entry]}-${this.#offsets[entry]}"`
  }

  /** The balance of `key` and the partition and offset of the record that set it, in one lookup. */
  row(key: string): TableRow | undefined {
    const entry = this.#entryOf(key)
    if (entry < 0) return undefined
    return {
      balance: this.#balanceAt(entry, key),
      partition: this.#partitions[entry] as number,
      offset: this.#offsets[entry] as number,
    }
  }

  /**
   * From now on, remembers the entries a put touches (one byte per entry, each listed once) until
   * `clearMarks`: what a write group of the snapshot must write, without a Map of key strings
   * (hashing every replayed key a second time was 8% of a replay's CPU).
   */
  trackChanges(): void {
    this.#marks ??= new Uint8Array(this.#hashes.length)
  }

  /** Entries marked since `clearMarks` (a key set twice counts once). */
  get marked(): number {
    return this.#marked.length
  }

  /**
   * The keys set since `clearMarks` and still present, in the order of their bytes, a bucket at a time
   * (key-order.ts). The table must not change until the last is read.
   */
  markedKeys(): Iterable<string> {
    const present = new Uint32Array(this.#marked.length)
    let count = 0
    for (const entry of this.#marked) if (this.#records[entry] !== FREE) present[count++] = entry
    return inKeyOrder(present.subarray(0, count), this.#keyBytes)
  }

  readonly #keyBytes: KeyBytes = {
    byteAt: (entry, depth) => {
      const at = this.#records[entry] as number
      return depth < (this.#arena[at] as number) ? (this.#arena[at + 1 + depth] as number) : -1
    },
    keyAt: (entry) => this.#keyAt(entry),
  }

  clearMarks(): void {
    const marks = this.#marks
    if (!marks) return
    for (const entry of this.#marked) marks[entry] = 0
    this.#marked = []
  }

  #mark(entry: number): void {
    const marks = this.#marks
    if (marks === undefined || marks[entry] === 1) return
    marks[entry] = 1
    this.#marked.push(entry)
  }

  #entryOf(key: string): number {
    const keyBytes = this.#encode(key, 0)
    return keyBytes < 0 ? -1 : this.#find(hashOf(key), keyBytes)
  }

  /** Applies `changes` of `partition` in order; `offsets[i]` is the offset of `changes[i]`. */
  apply(partition: number, changes: readonly Change[], offsets: readonly number[]): void {
    const hashes = this.#aheadHashes
    for (let from = 0; from < changes.length; from += READ_AHEAD) {
      const to = Math.min(changes.length, from + READ_AHEAD)
      this.#readAhead(changes, from, to)
      for (let i = from; i < to; i++) {
        const change = changes[i] as Change
        const hash = hashes[i - from] as number
        if (change.kind === 'delete') this.#delete(hash, change.clienteId)
        else {
          const { cliente_id, saldo, timestamp } = change.balance
          this.#set(hash, cliente_id, saldo, timestamp, partition, offsets[i] as number)
        }
      }
    }
  }

  /**
   * Hashes the keys of `changes[from, to)` into `#aheadHashes` and reads their first hash slot, then
   * the entry each slot names. The reads depend on nothing of one another, so their misses overlap;
   * applying the changes then finds them in the cache. Only speed depends on it.
   */
  #readAhead(changes: readonly Change[], from: number, to: number): void {
    const hashes = this.#aheadHashes
    const read = this.#aheadRead
    const slots = this.#slots
    const mask = slots.length - 1
    for (let i = from; i < to; i++) {
      const hash = hashOf(changeKey(changes[i] as Change))
      hashes[i - from] = hash
      const entry = (slots[hash & mask] as number) - 1
      read[i - from] = entry < 0 ? 0 : (this.#hashes[entry] as number) + (this.#saldos[entry] as number)
    }
    for (let i = from; i < to; i++) {
      const entry = (slots[(hashes[i - from] as number) & mask] as number) - 1
      if (entry >= 0)
        read[i - from] =
          (read[i - from] as number) +
          (this.#arena[this.#records[entry] as number] as number) +
          (this.#offsets[entry] as number)
    }
  }

  /** One put from its fields: a snapshot's load builds no object per row. */
  setFields(key: string, saldo: number, timestamp: string, partition: number, offset: number): void {
    this.#set(hashOf(key), key, saldo, timestamp, partition, offset)
  }

  #set(hash: number, key: string, saldo: number, timestamp: string, partition: number, offset: number): void {
    const keyBytes = this.#encode(key, 0)
    const tsBytes = keyBytes < 0 ? -1 : this.#encodeTimestamp(timestamp)
    if (tsBytes < 0)
      throw new RangeError(
        `cliente_id or timestamp of ${JSON.stringify(key.slice(0, 40))} is over ${MAX_FIELD_BYTES} bytes`,
      )
    const found = this.#find(hash, keyBytes)
    if (found >= 0) {
      this.#saldos[found] = saldo
      this.#partitions[found] = partition
      this.#offsets[found] = offset
      this.#mark(found)
      const at = this.#records[found] as number
      const tsAt = at + 1 + keyBytes
      if (this.#arena[tsAt] === tsBytes) {
        this.#copyScratch(TIMESTAMP_AT, tsBytes, tsAt + 1)
        return
      }
      this.#garbage += 2 + keyBytes + (this.#arena[tsAt] as number)
      this.#records[found] = this.#append(keyBytes, tsBytes)
      this.#compactIfWasteful()
      return
    }
    const entry = this.#newEntry()
    this.#hashes[entry] = hash
    this.#saldos[entry] = saldo
    this.#partitions[entry] = partition
    this.#offsets[entry] = offset
    this.#records[entry] = this.#append(keyBytes, tsBytes)
    this.#mark(entry)
    this.#insertSlot(hash, entry)
    this.#size++
  }

  /**
   * Room for `keys` more keys whose ids and timestamps take `bytes` bytes of UTF-8, allocated at once:
   * a load that grew the arrays by doubling held the old and the new copy of each at its peak.
   */
  reserve(keys: number, bytes: number): void {
    const entries = this.#entries + keys
    if (entries > this.#hashes.length) this.#growEntries(entries)
    const arena = this.#arenaUsed + bytes + 2 * keys
    if (arena > this.#arena.length) this.#arena = grow(this.#arena, Buffer.alloc(arena))
    // As #insertSlot keeps them: at most half full once the keys are in, so none of them rehashes.
    if ((this.#size + this.#tombstones + keys + 1) * 2 > this.#slots.length)
      this.#rehash((this.#size + keys + 1) * 2)
  }

  #delete(hash: number, key: string): void {
    const keyBytes = this.#encode(key, 0)
    const slot = keyBytes < 0 ? -1 : this.#slotOf(hash, keyBytes)
    if (slot < 0) return
    this.#release(slot)
    this.#compactIfWasteful()
  }

  /** Deletes every key whose record came from `partition`; returns how many. */
  dropPartition(partition: number): number {
    const before = this.#size
    const slots = this.#slots
    for (let slot = 0; slot < slots.length; slot++) {
      const value = slots[slot] as number
      if (value > 0 && this.#partitions[value - 1] === partition) this.#release(slot)
    }
    this.#compactIfWasteful()
    return before - this.#size
  }

  /** Frees the entry `slot` holds: its arena bytes become garbage and the entry goes on the free list. */
  #release(slot: number): void {
    const entry = (this.#slots[slot] as number) - 1
    const at = this.#records[entry] as number
    this.#garbage +=
      2 + (this.#arena[at] as number) + (this.#arena[at + 1 + (this.#arena[at] as number)] as number)
    this.#slots[slot] = DELETED
    this.#records[entry] = FREE
    this.#tombstones++
    this.#free.push(entry)
    this.#size--
  }

  clear(): void {
    this.#slots = new Int32Array(MIN_CAPACITY * 2)
    this.#hashes = new Uint32Array(MIN_CAPACITY)
    this.#saldos = new Float64Array(MIN_CAPACITY)
    this.#records = new Uint32Array(MIN_CAPACITY)
    this.#partitions = new Int32Array(MIN_CAPACITY)
    this.#offsets = new Float64Array(MIN_CAPACITY)
    this.#arena = Buffer.alloc(MIN_CAPACITY * 32)
    this.#arenaUsed = this.#garbage = this.#entries = this.#tombstones = this.#size = 0
    this.#free = []
    if (this.#marks) this.#marks = new Uint8Array(MIN_CAPACITY)
    this.#marked = []
  }

  /** Every balance, in no particular order. */
  *values(): IterableIterator<Balance> {
    for (const value of this.#slots) {
      if (value > 0) yield this.#balanceAt(value - 1)
    }
  }

  #keyAt(entry: number): string {
    const at = this.#records[entry] as number
    return this.#text(at + 1, at + 1 + (this.#arena[at] as number))
  }

  #balanceAt(entry: number, knownKey?: string): Balance {
    return {
      cliente_id: knownKey ?? this.#keyAt(entry),
      saldo: this.#saldos[entry] as number,
      timestamp: this.#timestampAt(entry),
    }
  }

  #timestampAt(entry: number): string {
    const arena = this.#arena
    const at = this.#records[entry] as number
    const tsAt = at + 1 + (arena[at] as number)
    return this.#text(tsAt + 1, tsAt + 1 + (arena[tsAt] as number))
  }

  /**
   * The arena's bytes from `start` to `end` as text: ASCII (the usual field) as Latin-1, which costs
   * half of a TextDecoder with its subarray; anything else as UTF-8.
   */
  #text(start: number, end: number): string {
    const arena = this.#arena
    for (let i = start; i < end; i++) {
      if ((arena[i] as number) > 0x7f) return decoder.decode(arena.subarray(start, end))
    }
    return arena.toString('latin1', start, end)
  }

  /** UTF-8 of `text` into the scratch buffer at `offset`: its length, or -1 when over MAX_FIELD_BYTES. */
  #encode(text: string, offset: number): number {
    const length = text.length
    if (length > MAX_FIELD_BYTES) return -1
    // ASCII (every id and timestamp in practice) byte by byte: a third of encodeInto's cost on fields
    // this short, paid for every record replayed and every lookup.
    const scratch = this.#scratch
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i)
      if (code > 0x7f) return this.#encodeUtf8(text, offset)
      scratch[offset + i] = code
    }
    return length
  }

  /**
   * The timestamp's UTF-8 into the scratch buffer at TIMESTAMP_AT: its length, or -1 when over
   * MAX_FIELD_BYTES. Records in a row mostly carry the same timestamp (the decoder hands over the
   * same string), which is then not encoded again.
   */
  #encodeTimestamp(timestamp: string): number {
    if (timestamp === this.#encodedTimestamp) return this.#encodedTimestampBytes
    // Also when it is refused (-1): the bytes it left are then never taken for another timestamp's.
    const bytes = this.#encode(timestamp, TIMESTAMP_AT)
    this.#encodedTimestamp = timestamp
    this.#encodedTimestampBytes = bytes
    return bytes
  }

  #encodeUtf8(text: string, offset: number): number {
    const into =
      offset === 0 ? this.#keyScratch : this.#scratch.subarray(offset, offset + MAX_FIELD_BYTES + 1)
    const { read, written } = encoder.encodeInto(text, into)
    return read < text.length || written > MAX_FIELD_BYTES ? -1 : written
  }

  /** The entry whose key is the `keyBytes` bytes at the start of the scratch buffer, or -1. */
  #find(hash: number, keyBytes: number): number {
    const slot = this.#slotOf(hash, keyBytes)
    return slot < 0 ? -1 : (this.#slots[slot] as number) - 1
  }

  /** The slot of the entry whose key is the `keyBytes` bytes at the start of the scratch buffer, or -1. */
  #slotOf(hash: number, keyBytes: number): number {
    const mask = this.#slots.length - 1
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const value = this.#slots[slot] as number
      if (value === EMPTY) return -1
      if (value > 0 && this.#matches(value - 1, hash, keyBytes)) return slot
    }
  }

  #matches(entry: number, hash: number, keyBytes: number): boolean {
    if (this.#hashes[entry] !== hash) return false
    const at = this.#records[entry] as number
    if (this.#arena[at] !== keyBytes) return false
    for (let i = 0; i < keyBytes; i++) if (this.#arena[at + 1 + i] !== this.#scratch[i]) return false
    return true
  }

  #append(keyBytes: number, tsBytes: number): number {
    const need = 2 + keyBytes + tsBytes
    if (this.#arenaUsed + need > this.#arena.length) {
      this.#arena = grow(this.#arena, Buffer.alloc(Math.max(this.#arena.length * 2, this.#arenaUsed + need)))
    }
    const at = this.#arenaUsed
    this.#arena[at] = keyBytes
    this.#copyScratch(0, keyBytes, at + 1)
    this.#arena[at + 1 + keyBytes] = tsBytes
    this.#copyScratch(TIMESTAMP_AT, tsBytes, at + 2 + keyBytes)
    this.#arenaUsed += need
    return at
  }

  /** `length` bytes of the scratch buffer from `from` into the arena at `to`: a field is too short for a subarray and `set` to pay. */
  #copyScratch(from: number, length: number, to: number): void {
    const scratch = this.#scratch
    const arena = this.#arena
    for (let i = 0; i < length; i++) arena[to + i] = scratch[from + i] as number
  }

  #newEntry(): number {
    const reused = this.#free.pop()
    if (reused !== undefined) return reused
    if (this.#entries === this.#hashes.length) this.#growEntries(this.#hashes.length * 2)
    return this.#entries++
  }

  #growEntries(capacity: number): void {
    this.#hashes = grow(this.#hashes, new Uint32Array(capacity))
    this.#saldos = grow(this.#saldos, new Float64Array(capacity))
    this.#records = grow(this.#records, new Uint32Array(capacity))
    this.#partitions = grow(this.#partitions, new Int32Array(capacity))
    this.#offsets = grow(this.#offsets, new Float64Array(capacity))
    if (this.#marks) this.#marks = grow(this.#marks, new Uint8Array(capacity))
  }

  #insertSlot(hash: number, entry: number): void {
    // Keep the slots at most half full (live + tombstones) so probes stay short.
    if ((this.#size + this.#tombstones + 1) * 2 > this.#slots.length) this.#rehash()
    const mask = this.#slots.length - 1
    let slot = hash & mask
    while ((this.#slots[slot] as number) > 0) slot = (slot + 1) & mask
    if (this.#slots[slot] === DELETED) this.#tombstones--
    this.#slots[slot] = entry + 1
  }

  /** New slots for the keys held, at least `capacity` of them (a power of two). */
  #rehash(room = (this.#size + 1) * 4): void {
    const old = this.#slots
    let capacity = MIN_CAPACITY * 2
    while (capacity < room) capacity *= 2
    this.#slots = new Int32Array(capacity)
    this.#tombstones = 0
    const mask = capacity - 1
    for (const value of old) {
      if (value <= 0) continue
      let slot = (this.#hashes[value - 1] as number) & mask
      while (this.#slots[slot] !== EMPTY) slot = (slot + 1) & mask
      this.#slots[slot] = value
    }
  }

  #compactIfWasteful(): void {
    if (this.#garbage < 1 << 20 || this.#garbage * 2 < this.#arenaUsed) return
    const arena = Buffer.alloc(Math.max(MIN_CAPACITY * 32, (this.#arenaUsed - this.#garbage) * 2))
    let used = 0
    for (const value of this.#slots) {
      if (value <= 0) continue
      const entry = value - 1
      const at = this.#records[entry] as number
      const length =
        2 + (this.#arena[at] as number) + (this.#arena[at + 1 + (this.#arena[at] as number)] as number)
      arena.set(this.#arena.subarray(at, at + length), used)
      this.#records[entry] = used
      used += length
    }
    this.#arena = arena
    this.#arenaUsed = used
    this.#garbage = 0
  }
}

function grow<T extends Uint8Array | Uint32Array | Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from)
  return to
}
