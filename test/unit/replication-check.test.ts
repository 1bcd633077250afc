import { describe, expect, it } from 'bun:test'
import { type ReplicaState, replicationWarnings } from '../../src/kafka/replication-check.ts'
import { minInsyncReplicas, replicationFactor } from '../../src/kafka/topic.ts'

const healthy: ReplicaState = {
  topic: 'contas',
  asked: undefined,
  brokers: 3,
  minInsyncReplicas: 2,
  partitions: [0, 1, 2].map((partition) => ({
    partition,
    leader: partition + 1,
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
  })),
}

describe('the replication factor saldo asks for', () => {
  it('is 3 on a cluster of 3 brokers or more, else 1, unless TOPIC_REPLICATION_FACTOR says', () => {
    expect([1, 2, 3, 5].map((brokers) => replicationFactor(undefined, brokers))).toEqual([1, 1, 3, 3])
    expect(replicationFactor(2, 5)).toBe(2)
  })

  it('comes with min.insync.replicas = RF - 1 from 3 replicas, else 1', () => {
    expect([1, 2, 3, 5].map(minInsyncReplicas)).toEqual([1, 1, 2, 4])
  })
})

describe('replicationWarnings', () => {
  it('has nothing to say about a topic with every replica in sync', () => {
    expect(replicationWarnings(healthy)).toEqual([])
  })

  it('warns when the topic has fewer replicas or a lower min.insync.replicas than asked', () => {
    const thin = healthy.partitions.map((p) => ({ ...p, replicas: [p.leader], isr: [p.leader] }))
    expect(replicationWarnings({ ...healthy, partitions: thin, minInsyncReplicas: 1 })).toEqual([
      expect.stringContaining('topic contas has 1 replica(s) per partition, fewer than the 3 asked'),
      expect.stringContaining('min.insync.replicas=1, below the 2 asked'),
    ])
    expect(replicationWarnings({ ...healthy, asked: 1, partitions: thin, minInsyncReplicas: 1 })).toEqual([])
  })

  it('names the partitions that are under-replicated or have no leader, and the brokers missing', () => {
    const partitions = [
      { partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 3] },
      { partition: 1, leader: -1, replicas: [2, 3, 1], isr: [] },
      healthy.partitions[2] ?? { partition: 2, leader: 3, replicas: [1, 2, 3], isr: [1, 2, 3] },
    ]
    expect(replicationWarnings({ ...healthy, partitions })).toEqual([
      'partition 0 of contas is under-replicated: broker(s) [2] out of sync (in sync: [1, 3], leader 1)',
      'partition 1 of contas has no leader: writes to it fail and its reads pause until one of brokers [2, 3, 1] is back',
    ])
  })
})
