import type { Kafka } from 'kafkajs'
import type { Config } from '../config.ts'
import type { Logger } from '../log.ts'
import type { BalanceStore, StoreOrigin } from '../store/store.ts'
import { distrustReason, type StoredState, type TopicState } from './snapshot-trust.ts'
import { ensureTopic, topicOffsets, topicSpec } from './topic.ts'

/** Where to resume each partition from, and whether the stored state must be thrown away first. */
export interface Resume {
  /** partition → the offset its replay starts at: its checkpoint, or the log start without a trusted one. */
  from: ReadonlyMap<number, number>
  /** Why the stored state cannot be continued (a sentence for the log), or undefined when it can. */
  rebuild: string | undefined
}

/** What a (re)start works from, decided before any consumer runs. */
export interface BootPlan extends Resume {
  /** The topic and cluster as they are now, which the state is then built from. */
  origin: StoreOrigin
  /** partition → end offset now: the replay's goal. */
  ends: ReadonlyMap<number, number>
  /** Something about the topic an operator should fix (not compacted), or undefined. */
  topicWarning: string | undefined
}

/**
 * Where each partition resumes: from its checkpoint when the stored state can be continued (never
 * below the log start: compaction or retention may have moved it), else from the log start.
 * `distrusted` is why the state must not be continued when that is known already: the consumer saw
 * the topic go backwards, and by now it may have grown past the old positions again, where the
 * offsets alone no longer show it.
 */
export function resumeFrom(stored: StoredState, topic: TopicState, distrusted?: string): Resume {
  const rebuild = distrusted ?? distrustReason(stored, topic)
  const from = new Map<number, number>()
  for (const [partition, start] of topic.starts) {
    from.set(partition, rebuild ? start : Math.max(start, stored.positions.get(partition) ?? 0))
  }
  return { from, rebuild }
}

export interface BootPlanDeps {
  kafka: Kafka
  store: Pick<BalanceStore, 'origin' | 'positions'>
  log: Logger
  config: Pick<Config, 'TOPIC' | 'TOPIC_PARTITIONS' | 'TOPIC_REPLICATION_FACTOR'>
  /** Why the stored state must be rebuilt whatever the offsets say (see resumeFrom). */
  distrusted?: string
}

/** Makes sure the topic exists and reads it (one admin connection), then decides where to resume. */
export async function readBootPlan({
  kafka,
  store,
  log,
  config,
  distrusted,
}: BootPlanDeps): Promise<BootPlan> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const topicWarning = await ensureTopic(admin, topicSpec(config), log)
    const { clusterId } = await admin.describeCluster()
    const { starts, ends } = await topicOffsets(admin, config.TOPIC)
    const resume = resumeFrom(
      { origin: store.origin, positions: store.positions() },
      { topic: config.TOPIC, clusterId, starts, ends },
      distrusted,
    )
    return {
      ...resume,
      origin: { topic: config.TOPIC, clusterId, partitions: ends.size },
      ends,
      topicWarning,
    }
  } finally {
    await admin.disconnect()
  }
}
