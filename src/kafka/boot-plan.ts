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
 */
export function resumeFrom(stored: StoredState, topic: TopicState): Resume {
  const rebuild = distrustReason(stored, topic)
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
}

/** Makes sure the topic exists and reads it (one admin connection), then decides where to resume. */
export async function readBootPlan({ kafka, store, log, config }: BootPlanDeps): Promise<BootPlan> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const topicWarning = await ensureTopic(admin, topicSpec(config), log)
    const { clusterId } = await admin.describeCluster()
    const { starts, ends } = await topicOffsets(admin, config.TOPIC)
    const resume = resumeFrom(
      { origin: store.origin, positions: store.positions() },
      { topic: config.TOPIC, clusterId, starts, ends },
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
