/**
 * A position says how far a store has read: for each partition, the next offset to read (Kafka's
 * consumer position). Written `partition:offset[,partition:offset…]`, e.g. `0:42,1:17,2:0`.
 * A store reaches a position when every partition listed is at or past its offset.
 */
export type Position = ReadonlyMap<number, number>

export function formatPosition(position: Position): string {
  return [...position]
    .sort(([a], [b]) => a - b)
    .map(([partition, offset]) => `${partition}:${offset}`)
    .join(',')
}

const ENTRY = /^(\d{1,9}):(\d{1,16})$/

/** Parses a position; returns an error sentence instead when the text is not one. */
export function parsePosition(text: string): Position | string {
  const position = new Map<number, number>()
  for (const entry of text.split(',')) {
    const m = ENTRY.exec(entry.trim())
    if (!m)
      return `position ${JSON.stringify(text)} is not partition:offset[,partition:offset…] (e.g. 0:42,1:17)`
    const partition = Number(m[1])
    position.set(partition, Math.max(position.get(partition) ?? 0, Number(m[2])))
  }
  return position
}

export function reaches(current: (partition: number) => number, wanted: Position): boolean {
  for (const [partition, offset] of wanted) if (current(partition) < offset) return false
  return true
}
