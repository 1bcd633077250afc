import { describe, expect, it } from 'bun:test'
import { RejectLog } from '../../src/kafka/reject-log.ts'
import { createLogger } from '../../src/log.ts'
import { waitFor } from '../helpers.ts'

function recorder() {
  const lines: Array<Record<string, unknown>> = []
  const log = createLogger({ LOG_LEVEL: 'debug', LOG_FORMAT: 'json' }, {}, (line) =>
    lines.push(JSON.parse(line)),
  )
  return { lines, log }
}

describe('RejectLog', () => {
  it('logs the first records of each reason on each partition, then only counts them', () => {
    const { lines, log } = recorder()
    const rejects = new RejectLog(log, { samplePerReason: 3, summaryEveryMs: 60_000 })
    for (let offset = 0; offset < 10_000; offset++) rejects.record('t', 0, offset, 'value_not_json', 'x')
    for (let offset = 0; offset < 10; offset++) rejects.record('t', 1, offset, 'value_not_json', 'x')
    rejects.record('t', 0, 10_000, 'saldo_not_finite', 'y')

    const sampled = lines.filter((l) => l.msg === 'rejected record; the key keeps its previous value')
    expect(sampled).toHaveLength(3 + 3 + 1)
    expect(sampled.map((l) => [l.partition, l.offset, l.reason])).toEqual([
      [0, 0, 'value_not_json'],
      [0, 1, 'value_not_json'],
      [0, 2, 'value_not_json'],
      [1, 0, 'value_not_json'],
      [1, 1, 'value_not_json'],
      [1, 2, 'value_not_json'],
      [0, 10_000, 'saldo_not_finite'],
    ])
    // The last sampled line says what happens to the next ones.
    expect(sampled[2]?.next).toContain('summarised')
    expect(sampled[1]?.next).toBeUndefined()

    rejects.flush()
    const summaries = lines.filter(
      (l) => l.msg === 'rejected records not logged one by one since the last summary',
    )
    expect(summaries).toEqual([
      expect.objectContaining({
        byPartitionAndReason: { '0:value_not_json': 9_997, '1:value_not_json': 7 },
        total: 10_004,
      }),
    ])
    // Nothing new: no summary.
    rejects.flush()
    expect(lines).toHaveLength(sampled.length + 1)
  })

  it('writes the summary on its own when records stop coming', async () => {
    const { lines, log } = recorder()
    const rejects = new RejectLog(log, { samplePerReason: 1, summaryEveryMs: 20 })
    rejects.record('t', 0, 0, 'value_not_json', 'x')
    rejects.record('t', 0, 1, 'value_not_json', 'x')
    await waitFor(() => lines.length === 2, { what: 'the periodic summary', timeoutMs: 2_000 })
    expect(lines[1]).toMatchObject({ total: 1 })
  })
})
