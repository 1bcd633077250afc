import { describe, expect, it } from 'bun:test'
import { ApiError } from '../../src/http/errors.ts'
import { preconditions, unmet } from '../../src/http/preconditions.ts'

const of = (headers: Record<string, string>) => preconditions(new Headers(headers))
const CURRENT = '"0-42"'

describe('If-Match / If-None-Match', () => {
  it('has no preconditions without either header', () => {
    expect(of({})).toBeUndefined()
  })

  // [headers, current ETag (undefined: no balance), holds?]
  const matrix: Array<[Record<string, string>, string | undefined, boolean]> = [
    [{ 'if-match': CURRENT }, CURRENT, true],
    [{ 'if-match': '"0-41"' }, CURRENT, false],
    [{ 'if-match': '"0-41", "0-42"' }, CURRENT, true],
    // A weak tag never matches strongly.
    [{ 'if-match': 'W/"0-42"' }, CURRENT, false],
    [{ 'if-match': CURRENT }, undefined, false],
    [{ 'if-match': '*' }, CURRENT, true],
    [{ 'if-match': '*' }, undefined, false],
    [{ 'if-none-match': '*' }, undefined, true],
    [{ 'if-none-match': '*' }, CURRENT, false],
    [{ 'if-none-match': CURRENT }, CURRENT, false],
    [{ 'if-none-match': 'W/"0-42"' }, CURRENT, false],
    [{ 'if-none-match': '"0-41"' }, CURRENT, true],
    [{ 'if-match': CURRENT, 'if-none-match': '*' }, CURRENT, false],
  ]
  for (const [headers, current, holds] of matrix) {
    it(`${JSON.stringify(headers)} against ${current ?? 'no balance'}: ${holds ? 'holds' : '412'}`, () => {
      const wanted = of(headers)
      if (!wanted) throw new Error('expected preconditions')
      const why = unmet(wanted, current)
      if (holds) expect(why).toBeUndefined()
      else expect(why).toMatch(/^If-(None-)?Match failed: /)
    })
  }

  it('says what the client should do when it fails', () => {
    const wanted = of({ 'if-match': '"0-41"' })
    if (!wanted) throw new Error('expected preconditions')
    expect(unmet(wanted, CURRENT)).toBe(
      'If-Match failed: the balance changed (its ETag is now "0-42"); GET it again before writing',
    )
  })

  for (const value of ['0-42', '"0-42', '"0-42" "0-43"', '"0-42",,', 'W/', '"a b"']) {
    it(`refuses the malformed If-Match ${JSON.stringify(value)} with a 400 that shows the form`, () => {
      let error: unknown
      try {
        of({ 'if-match': value })
      } catch (thrown) {
        error = thrown
      }
      expect(error).toBeInstanceOf(ApiError)
      expect((error as ApiError).status).toBe(400)
      expect((error as ApiError).message).toContain('If-Match: "0-42"')
    })
  }
})
