import { describe, expect, it } from 'bun:test'
import { decodeMovement, type Movement } from '../../src/movements/movement.ts'
import { MovementIndex, RECENT_PER_CLIENT } from '../../src/movements/movement-index.ts'

const HOUR = 3600_000
const movement = (id: string, key: string, valor = 1): Movement => ({
  cliente_id: id,
  valor,
  saldo_anterior: 0,
  saldo: valor,
  descricao: null,
  idempotency_key: key,
  timestamp: '2026-12-02T18:00:00.000Z',
})

describe('MovementIndex', () => {
  it('is ready once every partition is read to the end offsets seen at the start', () => {
    const index = new MovementIndex(HOUR)
    expect(index.ready).toBe(false)
    index.begin(
      new Map([
        [0, 0],
        [1, 5],
      ]),
      new Map([
        [0, 2],
        [1, 5],
      ]),
    )
    expect(index.ready).toBe(false)
    expect(index.behind()).toBe('0:0/2')
    index.apply(0, [], 2)
    expect(index.ready).toBe(true)
    expect(index.positions()).toEqual(
      new Map([
        [0, 2],
        [1, 5],
      ]),
    )
  })

  it(`lists the last ${RECENT_PER_CLIENT} movements of a client, newest first, and keeps every key`, () => {
    const index = new MovementIndex(HOUR)
    const now = Date.now()
    const batch = Array.from({ length: 150 }, (_, i) => ({
      movement: movement('7', `k${i}`, i + 1),
      at: now,
    }))
    index.apply(0, batch, 300)
    expect(index.recent('7', 3)?.map((m) => m.valor)).toEqual([150, 149, 148])
    expect(index.recent('7', 1000)).toHaveLength(RECENT_PER_CLIENT)
    expect(index.find('7', 'k0')?.valor).toBe(1)
    expect(index.find('8', 'k0')).toBeUndefined()
    expect(index.recent('8', 10)).toBeUndefined()
    expect(index.size).toEqual({ clients: 1, keys: 150 })
  })

  it('forgets keys and movements older than the retention as newer ones are applied', () => {
    let now = Date.now()
    const index = new MovementIndex(HOUR, () => now)
    index.apply(0, [{ movement: movement('old', 'a'), at: now }], 1)
    expect(index.find('old', 'a')).toBeDefined()
    now += HOUR + 1
    index.apply(0, [{ movement: movement('new', 'b'), at: now }], 2)
    expect(index.find('old', 'a')).toBeUndefined()
    expect(index.recent('old', 10)).toBeUndefined()
    expect(index.size).toEqual({ clients: 1, keys: 1 })
  })

  it('keeps the first movement of a key: the one that answered', () => {
    const index = new MovementIndex(HOUR)
    const now = Date.now()
    index.apply(
      0,
      [
        { movement: movement('7', 'k', 5), at: now },
        { movement: movement('7', 'k', 9), at: now },
      ],
      2,
    )
    expect(index.find('7', 'k')?.valor).toBe(5)
    expect(index.recent('7', 10)?.map((m) => m.valor)).toEqual([9, 5])
  })
})

describe('decodeMovement', () => {
  const value = (m: unknown) => Buffer.from(JSON.stringify(m))
  it('reads a movement record, fields in one order', () => {
    const m = movement('7', 'k')
    const shuffled = Object.fromEntries(Object.entries(m).reverse())
    const decoded = decodeMovement(Buffer.from('7'), value(shuffled))
    expect(decoded).toEqual({ ok: true, movement: m })
    if (decoded.ok) expect(Object.keys(decoded.movement)).toEqual(Object.keys(m))
  })

  const bad: Array<[string, Buffer | null, Buffer | null, string]> = [
    ['no key', null, value(movement('7', 'k')), 'no usable key'],
    ['a null value', Buffer.from('7'), null, 'null value'],
    ['not JSON', Buffer.from('7'), Buffer.from('{'), 'not JSON'],
    ['another client', Buffer.from('8'), value(movement('7', 'k')), 'key "8" ≠ cliente_id'],
    ['no valor', Buffer.from('7'), value({ ...movement('7', 'k'), valor: undefined }), '/valor'],
    ['a bad timestamp', Buffer.from('7'), value({ ...movement('7', 'k'), timestamp: 'ontem' }), 'ISO-8601'],
  ]
  for (const [name, key, record, problem] of bad) {
    it(`skips a record with ${name}`, () => {
      const decoded = decodeMovement(key, record)
      expect(decoded.ok).toBe(false)
      if (!decoded.ok) expect(decoded.problem).toContain(problem)
    })
  }

  it('lists a record appended twice (a producer retry after a leader change) once', () => {
    const index = new MovementIndex(HOUR)
    const now = Date.now()
    const copy = { movement: movement('7', 'k', 5), at: now }
    index.apply(
      0,
      [copy, { ...copy, movement: { ...copy.movement } }, { movement: movement('7', 'j', 2), at: now }],
      3,
    )
    expect(index.recent('7', 10)?.map((m) => m.idempotency_key)).toEqual(['j', 'k'])
  })
})
