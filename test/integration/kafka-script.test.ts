import { describe, expect, it } from 'bun:test'
import { privateBroker } from '../helpers.ts'

describe('scripts/kafka.sh', () => {
  it('starts a broker that answers, does nothing on a second start, and stops only its own', async () => {
    const broker = privateBroker(19092)
    expect(await broker.sh('status')).toMatchObject({
      code: 1,
      out: expect.stringContaining('no broker answers on localhost:19092'),
    })

    const first = await broker.sh('start')
    expect(first.code).toBe(0)
    expect(first.out).toContain('broker ready on localhost:19092')
    expect(await broker.sh('status')).toMatchObject({
      code: 0,
      out: expect.stringContaining('answers on localhost:19092 (native, pid'),
    })

    expect(await broker.sh('start')).toMatchObject({
      code: 0,
      out: expect.stringContaining('already answers'),
    })

    expect((await broker.sh('stop')).code).toBe(0)
    expect((await broker.sh('status')).code).toBe(1)
    expect((await broker.sh('stop')).out).toContain('nothing to stop')
  })
})
