import { describe, expect, it } from 'bun:test'
import { ApplyNumbers } from '../../src/kafka/apply-numbers.ts'
import { MemoryStore } from '../../src/store/memory-store.ts'

const config = { FETCH_MAX_WAIT_MS: 100, FOREIGN_PARTITION: 'accept' as const }

describe('ApplyNumbers', () => {
  it("reports the link to Kafka with the apply path's warnings first, then those found elsewhere", () => {
    const numbers = new ApplyNumbers({
      store: new MemoryStore(),
      config,
      warnings: () => ['replicas missing'],
    })
    expect(numbers.kafkaStatus()).toEqual({
      connected: false,
      lastError: undefined,
      warnings: ['replicas missing'],
    })

    const t = Date.now()
    numbers.link.fetched(t)
    numbers.link.topicWarning = 'not compacted'
    numbers.counts.countForeign({ kind: 'delete', clienteId: 'x' }, 0, 1, 'accept')
    const status = numbers.kafkaStatus(t + 1_000)
    expect(status.connected).toBe(true)
    expect(status.warnings).toHaveLength(3)
    expect(status.warnings[0]).toBe('not compacted')
    expect(status.warnings[1]).toContain('key "x" on partition 0, not 1')
    expect(status.warnings[2]).toBe('replicas missing')
    // Silence for much longer than a fetch wait is a lost link.
    expect(numbers.kafkaStatus(t + 60_000).connected).toBe(false)

    numbers.link.failed('cannot reach Kafka: connection refused')
    expect(numbers.readiness().kafka).toEqual({
      connected: true,
      lastError: 'cannot reach Kafka: connection refused',
    })
    numbers.link.fetched()
    expect(numbers.readiness().kafka.lastError).toBeUndefined()
  })

  it('counts a rebuild and forgets the foreign example of the old history, not its count', () => {
    const numbers = new ApplyNumbers({ store: new MemoryStore(), config })
    numbers.counts.countForeign({ kind: 'delete', clienteId: 'x' }, 0, 1, 'accept')
    numbers.rebuilt()
    expect(numbers.summary()).toMatchObject({ rebuilds: 1, foreignPartition: 1 })
    expect(numbers.kafkaStatus().warnings).toEqual([])
  })
})
