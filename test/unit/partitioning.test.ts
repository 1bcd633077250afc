import { describe, expect, it } from 'bun:test'
import { Partitioners } from 'kafkajs'
import { murmur2Partition } from '../../src/kafka/partitioning.ts'

/** kafkajs' own DefaultPartitioner (Java's murmur2 rule), through its public API: the reference. */
function kafkajsPartition(key: Buffer, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
    partitionErrorCode: 0,
  }))
  return Partitioners.DefaultPartitioner()({ topic: 't', partitionMetadata, message: { key, value: null } })
}

describe('murmur2Partition', () => {
  it('puts every key on the partition kafkajs (and the Java client) puts it on', () => {
    const seed = Number(process.env.TEST_SEED ?? Date.now())
    let state = seed
    // A small LCG: the same seed replays the same keys.
    const next = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0
      return state
    }
    const differ: string[] = []
    for (let i = 0; i < 20_000; i++) {
      const key = Buffer.from(Array.from({ length: i % 41 }, () => next() & 0xff))
      const partitions = 1 + (next() % 64)
      const expected = kafkajsPartition(key, partitions)
      // And read in place, between other bytes, as a fetched record's key is hashed.
      const around = Buffer.concat([Buffer.from([next() & 0xff, 7]), key, Buffer.from([next() & 0xff])])
      if (
        murmur2Partition(key, partitions) !== expected ||
        murmur2Partition(around, partitions, 2, key.length) !== expected
      ) {
        differ.push(`${key.toString('hex')} over ${partitions}`)
      }
    }
    expect({ seed, differ: differ.slice(0, 5) }).toEqual({ seed, differ: [] })
  })
})
