import { describe, expect, it } from 'bun:test'
import { runInteractive } from '../../src/cli/interactive.ts'
import { lines } from '../../src/cli/lines.ts'

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part)
}

async function all(source: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = []
  for await (const line of source) out.push(line)
  return out
}

describe('lines', () => {
  it('splits chunks into lines, whatever the chunk boundaries', async () => {
    expect(await all(lines(chunks('1\n15', '0.5\r\n', 'ex', 'it\n')))).toEqual(['1', '150.5', 'exit'])
  })

  it('keeps a last line without a newline, and multi-byte characters split across chunks', async () => {
    const e = new TextEncoder().encode('é')
    async function* split() {
      yield e.slice(0, 1)
      yield e.slice(1)
      yield new TextEncoder().encode('\nlast')
    }
    expect(await all(lines(split()))).toEqual(['é', 'last'])
  })
})

/** Runs a session over `input` lines and records what was asked, refused and sent. */
async function session(...input: string[]) {
  const events: string[] = []
  const sent: Array<[string, number]> = []
  const iterator = (async function* () {
    yield* input
  })()
  const count = await runInteractive(
    {
      lines: iterator,
      prompt: (text) => events.push(`? ${text}`),
      complain: (text) => events.push(`! ${text}`),
    },
    async (id, saldo) => {
      sent.push([id, saldo])
    },
  )
  return { count, events, sent }
}

describe('runInteractive', () => {
  it('sends each valid pair and stops at exit', async () => {
    const { count, sent } = await session('1', '150.0', ' 2 ', '-3.5', 'exit', '3', '4')
    expect(sent).toEqual([
      ['1', 150],
      ['2', -3.5],
    ])
    expect(count).toBe(2)
  })

  it('explains a refused answer and asks the same question again', async () => {
    const { events, sent } = await session('', '9', 'abc', '12,5', '12.5')
    expect(events).toEqual([
      '? cliente_id> ',
      '! cliente_id is empty; use 1 to 128 bytes without control characters',
      '? cliente_id> ',
      '? saldo> ',
      '! saldo "abc" is not a finite number; e.g. 150, -20.5',
      '? saldo> ',
      '! saldo "12,5" is not a finite number (use a dot for decimals: 150.5); e.g. 150, -20.5',
      '? saldo> ',
      '? cliente_id> ',
    ])
    expect(sent).toEqual([['9', 12.5]])
  })

  it('stops at the end of the input, even halfway through a pair', async () => {
    expect((await session('5')).sent).toEqual([])
    expect((await session()).count).toBe(0)
  })
})
