import { describe, expect, it } from 'bun:test'
import { inKeyOrder, type KeyBytes } from '../../src/store/key-order.ts'
import { randomInt, seededIt } from '../random.ts'

/** Keys as a table holds them: UTF-8 bytes per entry; counts how many strings were made. */
function table(keys: readonly string[]) {
  const bytes = keys.map((key) => Buffer.from(key))
  let made = 0
  const access: KeyBytes = {
    byteAt: (entry, depth) => {
      const key = bytes[entry] as Buffer
      return depth < key.length ? (key[depth] as number) : -1
    },
    keyAt: (entry) => {
      made++
      return keys[entry] as string
    },
  }
  return { access, entries: Uint32Array.from(keys, (_, i) => i), made: () => made }
}

const byBytes = (keys: readonly string[]) =>
  [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))

describe('inKeyOrder', () => {
  seededIt(
    'gives every key once, in the order of its UTF-8 bytes, where keys share prefixes of any length',
    () => {
      const keys = new Set<string>()
      for (let i = 1; i <= 30_000; i++) keys.add(String(i))
      for (let i = 0; i < 10_000; i++) keys.add(`cliente-${String(i).padStart(12, '0')}`)
      // A prefix of other keys, a key that is only a prefix's end, non-ASCII keys (2 and 3 bytes a character).
      for (const key of ['cliente-', 'cliente-0', 'é', 'éé', 'ü/1', '€', 'a€b', 'z']) keys.add(key)
      while (keys.size < 50_000) keys.add(randomInt(1e9).toString(36))
      const all = [...keys]
      const { access, entries } = table(all)
      expect([...inKeyOrder(entries, access)]).toEqual(byBytes(all))
    },
  )

  it('finds the first keys without making a string of every key', () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => String(i + 1))
    const { access, entries, made } = table(keys)
    const order = inKeyOrder(entries, access)
    expect(order.next().value).toBe('1')
    expect(made()).toBeLessThan(5000)
    expect([...order]).toHaveLength(keys.length - 1)
    expect(made()).toBe(keys.length)
  })

  it('gives nothing for no entries, and the one key of one', () => {
    expect([...inKeyOrder(new Uint32Array(0), table([]).access)]).toEqual([])
    const one = table(['only'])
    expect([...inKeyOrder(one.entries, one.access)]).toEqual(['only'])
  })
})
