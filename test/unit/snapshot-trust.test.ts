import { describe, expect, it } from 'bun:test'
import { distrustReason, type StoredState, type TopicState } from '../../src/kafka/snapshot-trust.ts'

const origin = { topic: 'contas', clusterId: 'cluster-a', partitions: 2 }
const now: TopicState = {
  topic: 'contas',
  clusterId: 'cluster-a',
  starts: new Map([
    [0, 0],
    [1, 10],
  ]),
  ends: new Map([
    [0, 100],
    [1, 50],
  ]),
}
const stored = (positions: Array<[number, number]>, from = origin): StoredState => ({
  origin: from,
  positions: new Map(positions),
})

// [case, what the store holds, what Kafka says, the reason must contain (undefined: trusted)]
const cases: Array<[string, StoredState, TopicState, string | undefined]> = [
  ['an empty store', { origin: undefined, positions: new Map() }, now, undefined],
  [
    'checkpoints inside [log start, end]',
    stored([
      [0, 40],
      [1, 10],
    ]),
    now,
    undefined,
  ],
  [
    'checkpoints exactly at the end offsets',
    stored([
      [0, 100],
      [1, 50],
    ]),
    now,
    undefined,
  ],
  ['a partition without a checkpoint yet', stored([[0, 40]]), now, undefined],
  ['an origin but nothing applied yet', stored([]), now, undefined],
  ['checkpoints but no origin', { origin: undefined, positions: new Map([[0, 5]]) }, now, 'does not say'],
  [
    'another cluster',
    stored([[0, 40]]),
    { ...now, clusterId: 'cluster-b' },
    'cluster cluster-a, this is cluster cluster-b',
  ],
  ['another topic', stored([[0, 40]]), { ...now, topic: 'other' }, 'topic contas, not other'],
  [
    'fewer partitions now',
    stored([[0, 40]]),
    { ...now, ends: new Map([[0, 100]]) },
    '1 partitions, the snapshot was built from 2',
  ],
  [
    'more partitions now',
    stored([[0, 40]]),
    {
      ...now,
      ends: new Map([
        [0, 100],
        [1, 50],
        [2, 0],
      ]),
    },
    '3 partitions, the snapshot was built from 2',
  ],
  [
    'a checkpoint past the end offset (recreated)',
    stored([
      [0, 40],
      [1, 51],
    ]),
    now,
    'partition 1: the checkpoint 51 is past the end offset 50',
  ],
  [
    'a checkpoint before the log start offset',
    stored([
      [0, 40],
      [1, 9],
    ]),
    now,
    'partition 1: the checkpoint 9 is before the log start offset 10',
  ],
  [
    'a checkpoint of a partition the topic lacks',
    stored([[7, 1]], { ...origin, partitions: 2 }),
    now,
    'partition 7',
  ],
]

describe('distrustReason', () => {
  for (const [name, state, topic, reason] of cases) {
    it(`${reason === undefined ? 'trusts' : 'distrusts'} ${name}`, () => {
      const found = distrustReason(state, topic)
      if (reason === undefined) expect(found).toBeUndefined()
      else expect(found).toContain(reason)
    })
  }
})
