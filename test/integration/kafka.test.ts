import { describe, expect, it } from 'bun:test'
import { ConfigResourceTypes } from 'kafkajs'
import { balanceRecord, createTopic, kafka, produce, readTopic, waitFor } from '../helpers.ts'

describe('the test broker', () => {
  it('keeps a compacted topic with 3 partitions and returns keyed records in per-partition order', async () => {
    const topic = await createTopic({ partitions: 3 })
    const admin = kafka.admin()
    await admin.connect()
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
    })
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
    await admin.disconnect()
    expect(described.resources[0]?.configEntries[0]?.configValue).toBe('compact')
    expect(metadata.topics[0]?.partitions).toHaveLength(3)

    const sent = Array.from({ length: 60 }, (_, i) => balanceRecord(String(i % 20), i))
    await produce(topic, sent)
    const records = await readTopic(topic)

    expect(records).toHaveLength(60)
    expect(new Set(records.map((r) => r.partition)).size).toBe(3)
    for (const partition of [0, 1, 2]) {
      const offsets = records.filter((r) => r.partition === partition).map((r) => r.offset)
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b))
    }
    // Records of one key stay on one partition, in the order they were sent.
    const saldosOfKey7 = records.filter((r) => r.key === '7').map((r) => JSON.parse(r.value ?? '').saldo)
    expect(saldosOfKey7).toEqual([7, 27, 47])
  })

  it("compacts: the broker's log cleaner drops older values and keeps the newest of every key", async () => {
    const topic = await createTopic({
      partitions: 1,
      configs: { 'segment.ms': '100', 'min.cleanable.dirty.ratio': '0.01', 'min.compaction.lag.ms': '0' },
    })
    const keys = 10
    let round = 0
    let produced = 0
    const writeRound = async () => {
      round++
      await produce(
        topic,
        Array.from({ length: keys }, (_, k) => balanceRecord(`k${k}`, round)),
      )
      produced += keys
    }
    // Segments roll only when a record arrives after segment.ms, so keep writing while we wait.
    const compacted = await waitFor(
      async () => {
        await writeRound()
        const records = await readTopic(topic)
        const latest = new Map(records.map((r) => [r.key, JSON.parse(r.value ?? '').saldo]))
        return records.length < produced - keys ? { records, latest, lastRound: round } : undefined
      },
      { timeoutMs: 60_000, intervalMs: 300, what: 'the log cleaner to remove old duplicates' },
    )
    expect(compacted.records.length).toBeLessThan(produced)
    expect(compacted.latest.size).toBe(keys)
    for (const saldo of compacted.latest.values()) expect(saldo).toBe(compacted.lastRound)
  })
})
