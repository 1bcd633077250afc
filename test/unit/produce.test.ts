import { describe, expect, it } from 'bun:test'
import type { Message } from 'kafkajs'
import { DEMO_BALANCES, type ProduceDeps, runProduce } from '../../src/cli/produce.ts'

/** A producer that records what it was given, and the output lines. */
function fake() {
  const sent: Message[] = []
  const said: string[] = []
  const deps: ProduceDeps = {
    producer: {
      topic: 'contas-test',
      send: async (message) => {
        sent.push(message)
        return { partition: 0, offset: sent.length - 1 }
      },
      sendBatch: async (messages) => {
        sent.push(...messages)
      },
    },
    say: (line) => said.push(line),
    progress: { isTTY: false, write: () => {} },
    input: () => {
      throw new Error('no input in this test')
    },
  }
  return { deps, sent, said }
}

describe('runProduce', () => {
  it('sends the demo balances and prints where each one landed', async () => {
    const { deps, sent, said } = fake()
    await runProduce({ mode: 'demo' }, deps)
    expect(sent.map((m) => m.key)).toEqual(DEMO_BALANCES.map(([id]) => id))
    expect(said).toHaveLength(DEMO_BALANCES.length)
    expect(said[0]).toMatch(/^\{"cliente_id":"1","saldo":150,"timestamp":"[^"]+"\} → partition 0, offset 0$/)
  })

  it('sends a tombstone for --delete', async () => {
    const { deps, sent, said } = fake()
    await runProduce({ mode: 'delete', clienteId: '7' }, deps)
    expect(sent).toEqual([{ key: '7', value: null }])
    expect(said).toEqual(['tombstone for cliente_id "7" → partition 0, offset 0'])
  })

  it('sends --count records and sums up', async () => {
    const { deps, sent, said } = fake()
    await runProduce({ mode: 'bulk', count: 25_000, keys: 10, rate: undefined }, deps)
    expect(sent).toHaveLength(25_000)
    expect(new Set(sent.map((m) => m.key)).size).toBe(10)
    expect(said[0]).toStartWith('sent 25000 records over 10 keys to contas-test in ')
  })
})
