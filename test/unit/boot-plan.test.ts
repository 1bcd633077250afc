import { describe, expect, it } from 'bun:test'
import { resumeFrom } from '../../src/kafka/boot-plan.ts'
import type { TopicState } from '../../src/kafka/snapshot-trust.ts'

const topic: TopicState = {
  topic: 'contas',
  clusterId: 'cluster-a',
  starts: new Map([
    [0, 0],
    [1, 10],
    [2, 0],
  ]),
  ends: new Map([
    [0, 100],
    [1, 50],
    [2, 0],
  ]),
}
const origin = { topic: 'contas', clusterId: 'cluster-a', partitions: 3 }

describe('where the replay resumes', () => {
  it('continues each partition from its checkpoint, and a partition without one from its log start', () => {
    const resume = resumeFrom(
      {
        origin,
        positions: new Map([
          [0, 40],
          [1, 10],
        ]),
      },
      topic,
    )
    expect(resume.rebuild).toBeUndefined()
    expect([...resume.from]).toEqual([
      [0, 40],
      [1, 10],
      [2, 0],
    ])
  })

  it('starts every partition at its log start, and says why, when the state belongs to another history', () => {
    const resume = resumeFrom(
      { origin: { ...origin, clusterId: 'cluster-b' }, positions: new Map([[0, 40]]) },
      topic,
    )
    expect(resume.rebuild).toBe('the snapshot was built from cluster cluster-b, this is cluster cluster-a')
    expect([...resume.from]).toEqual([
      [0, 0],
      [1, 10],
      [2, 0],
    ])
  })

  it('starts from the beginning of a topic with nothing stored', () => {
    const resume = resumeFrom({ origin: undefined, positions: new Map() }, topic)
    expect(resume.rebuild).toBeUndefined()
    expect(resume.from.get(1)).toBe(10)
  })

  it('rebuilds when the consumer saw the topic go backwards, even once it has grown past the old positions again', () => {
    // Partition 0 was at 40; the recreated topic ended behind it, and holds 100 by the time of the plan.
    const stored = { origin, positions: new Map([[0, 40]]) }
    expect(resumeFrom(stored, topic).rebuild).toBeUndefined()
    const resume = resumeFrom(stored, topic, 'partition 0 ends at 20, behind the 40 already applied')
    expect(resume.rebuild).toBe('partition 0 ends at 20, behind the 40 already applied')
    expect([...resume.from]).toEqual([
      [0, 0],
      [1, 10],
      [2, 0],
    ])
  })
})
