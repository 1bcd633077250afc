import { type Admin, ConfigResourceTypes } from 'kafkajs'
import type { Config } from '../config.ts'
import type { Logger } from '../log.ts'

export interface TopicSpec {
  topic: string
  partitions: number
  replication: number
}

/** The topic saldo creates when it is missing, as the settings describe it. */
export function topicSpec(
  config: Pick<Config, 'TOPIC' | 'TOPIC_PARTITIONS' | 'TOPIC_REPLICATION'>,
): TopicSpec {
  return { topic: config.TOPIC, partitions: config.TOPIC_PARTITIONS, replication: config.TOPIC_REPLICATION }
}

export interface TopicOffsets {
  /** partition → log start offset (the first offset still in the log). */
  starts: Map<number, number>
  /** partition → end offset (high watermark: the offset the next record will get). */
  ends: Map<number, number>
}

/**
 * Creates the topic compacted when it is missing. Returns a warning when the topic exists but is
 * not compacted: saldo still works, but old balances may be deleted by retention.
 */
export async function ensureTopic(admin: Admin, spec: TopicSpec, log: Logger): Promise<string | undefined> {
  const existing = await admin.listTopics()
  if (!existing.includes(spec.topic)) {
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: spec.topic,
          numPartitions: spec.partitions,
          replicationFactor: spec.replication,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
    })
    // false means another client created it between our list and our create: fine.
    if (created) log.info('created compacted topic', { topic: spec.topic, partitions: spec.partitions })
  }
  const policy = await cleanupPolicy(admin, spec.topic)
  if (policy.split(',').includes('compact')) return undefined
  const warning =
    `topic ${spec.topic} has cleanup.policy=${policy}, not compact: old balances may be deleted by retention. ` +
    `Fix: kafka-configs --alter --entity-type topics --entity-name ${spec.topic} --add-config cleanup.policy=compact`
  log.warn(warning, { topic: spec.topic })
  return warning
}

export async function cleanupPolicy(admin: Admin, topic: string): Promise<string> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
  })
  const entry = described.resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')
  return entry?.configValue ?? 'delete'
}

export async function topicOffsets(admin: Admin, topic: string): Promise<TopicOffsets> {
  const offsets = await admin.fetchTopicOffsets(topic)
  const starts = new Map<number, number>()
  const ends = new Map<number, number>()
  for (const o of offsets) {
    starts.set(o.partition, Number(o.low))
    ends.set(o.partition, Number(o.high))
  }
  return { starts, ends }
}

/** The topic's partition count now, from one metadata request; throws while the topic does not exist. */
export async function partitionCount(admin: Admin, topic: string): Promise<number> {
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
  return topics[0]?.partitions.length ?? 0
}
