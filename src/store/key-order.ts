/** A bucket this small is sorted as strings at once; a larger one is split by its next byte first. */
const SORT_AT_ONCE = 4096
/** Bucket 0 holds the key that ends where the bucket's common prefix does; byte b goes to b + 1. */
const BUCKETS = 257

/** Where a table keeps its keys' UTF-8 bytes, for `inKeyOrder`. */
export interface KeyBytes {
  /** Byte `depth` of `entry`'s key, or -1 past its end. */
  byteAt(entry: number, depth: number): number
  keyAt(entry: number): string
}

/**
 * The keys of `entries` in the order of their UTF-8 bytes (SQLite's BINARY order, in which rows are
 * appended to a B-tree), found a bucket at a time: a most-significant-byte radix split of the
 * buckets that are large, and a string sort of each small one when it is reached. The first keys cost
 * a few passes over bytes and one small sort, not the sort of every key: the write at readiness
 * (persistent-store.ts) asks for its first slice before /ready answers, and sorting a million key
 * strings there took 0.22-0.35 s. In a small bucket, strings compare by UTF-16 code units, which only
 * differs from byte order between characters above U+E000 and ones beyond U+FFFF: one row out of
 * place for the B-tree, never a row missed or written twice.
 */
export function* inKeyOrder(entries: Uint32Array, keys: KeyBytes): Generator<string> {
  const pending: Array<{ entries: Uint32Array; depth: number }> = [{ entries, depth: 0 }]
  for (let bucket = pending.pop(); bucket; bucket = pending.pop()) {
    if (bucket.entries.length <= SORT_AT_ONCE) {
      yield* Array.from(bucket.entries, (entry) => keys.keyAt(entry)).sort()
      continue
    }
    // Later buckets first onto the stack, so that the next pop is the lowest.
    for (const split of splitByByte(bucket.entries, bucket.depth, keys).reverse())
      pending.push({ entries: split, depth: bucket.depth + 1 })
  }
}

/** `entries` by their byte at `depth` (a counting sort), as the non-empty buckets in byte order. */
function splitByByte(entries: Uint32Array, depth: number, keys: KeyBytes): Uint32Array[] {
  const starts = new Uint32Array(BUCKETS + 1)
  const bytes = new Int16Array(entries.length)
  for (let i = 0; i < entries.length; i++) {
    const byte = keys.byteAt(entries[i] as number, depth)
    bytes[i] = byte
    ;(starts[byte + 2] as number)++
  }
  for (let b = 1; b <= BUCKETS; b++) (starts[b] as number) += starts[b - 1] as number
  const sorted = new Uint32Array(entries.length)
  const next = starts.slice(0, BUCKETS)
  for (let i = 0; i < entries.length; i++)
    sorted[(next[(bytes[i] as number) + 1] as number)++] = entries[i] as number
  const buckets: Uint32Array[] = []
  for (let b = 0; b < BUCKETS; b++) {
    const start = starts[b] as number
    const end = starts[b + 1] as number
    if (end > start) buckets.push(sorted.subarray(start, end))
  }
  return buckets
}
