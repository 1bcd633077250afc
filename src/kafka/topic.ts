import { type Admin, ConfigResourceTypes } from 'kafkajs'
import type { Config } from '../config.ts'
import type { Logger } from '../log.ts'

export interface TopicSpec {
  topic: string
  partitions: number
  /** undefined: chosen from the cluster's size (replicationFactor). */
  replication: number | undefined
}

/** The topic saldo creates when it is missing, as the settings describe it. */
export function topicSpec(
  config: Pick<Config, 'TOPIC' | 'TOPIC_PARTITIONS' | 'TOPIC_REPLICATION_FACTOR'>,
): TopicSpec {
  return {
    topic: config.TOPIC,
    partitions: config.TOPIC_PARTITIONS,
    replication: config.TOPIC_REPLICATION_FACTOR,
  }
}

/** The replication factor asked for: the setting, else 3 on a cluster of at least 3 brokers, else 1. */
export function replicationFactor(asked: number | undefined, brokers: number): number {
  return asked ?? (brokers >= 3 ? 3 : 1)
}

/**
 * With 3 or more replicas, an acknowledged write (acks=all) is on at least RF-1 of them, so it
 * survives the loss of a broker while writes go on with one broker down; below 3, Kafka's default 1.
 */
export function minInsyncReplicas(replication: number): number {
  return replication >= 3 ? replication - 1 : 1
}

/** The movements topic as saldo creates it: TOPIC's partition count, deleted after its retention. */
export interface MovementsTopicSpec extends TopicSpec {
  retentionMs: number
}

/**
 * Creates the movements topic when it is missing: `cleanup.policy=delete` (each movement is history,
 * not the latest value of a key) with `retention.ms`. Returns a warning when it exists compacted (a
 * client's older movements would vanish) or with another partition count than TOPIC (a client's
 * movements and balance must share a partition number to be written in one transaction).
 */
export async function ensureMovementsTopic(
  admin: Admin,
  spec: MovementsTopicSpec,
  log: Logger,
): Promise<string | undefined> {
  if (!(await admin.listTopics()).includes(spec.topic)) {
    const configs = [
      { name: 'cleanup.policy', value: 'delete' },
      { name: 'retention.ms', value: String(spec.retentionMs) },
    ]
    await createTopic(admin, spec, configs, log)
  }
  const count = await partitionCount(admin, spec.topic)
  const policy = (await topicConfigs(admin, spec.topic, ['cleanup.policy'])).get('cleanup.policy') ?? 'delete'
  const warning =
    count !== spec.partitions
      ? `topic ${spec.topic} has ${count} partitions, not the ${spec.partitions} of the balances' topic: movements cannot be written with their balance; recreate it with ${spec.partitions}`
      : policy.split(',').includes('compact')
        ? `topic ${spec.topic} has cleanup.policy=${policy}: compaction keeps only a client's last movement, and with it its history and idempotency keys. Fix: kafka-configs --alter --entity-type topics --entity-name ${spec.topic} --add-config cleanup.policy=delete`
        : undefined
  if (warning) log.warn(warning, { topic: spec.topic })
  return warning
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
  if (!(await admin.listTopics()).includes(spec.topic))
    await createTopic(admin, spec, [{ name: 'cleanup.policy', value: 'compact' }], log)
  const policy = (await topicConfigs(admin, spec.topic, ['cleanup.policy'])).get('cleanup.policy') ?? 'delete'
  if (policy.split(',').includes('compact')) return undefined
  const warning =
    `topic ${spec.topic} has cleanup.policy=${policy}, not compact: old balances may be deleted by retention. ` +
    `Fix: kafka-configs --alter --entity-type topics --entity-name ${spec.topic} --add-config cleanup.policy=compact`
  log.warn(warning, { topic: spec.topic })
  return warning
}

/** Creates the topic with `configs`, and the replication factor asked or fit for the cluster's size. */
async function createTopic(
  admin: Admin,
  spec: TopicSpec,
  configs: Array<{ name: string; value: string }>,
  log: Logger,
): Promise<void> {
  const brokers = (await admin.describeCluster()).brokers.length
  const replication = replicationFactor(spec.replication, brokers)
  if (replication > brokers) {
    throw new Error(
      `cannot create topic ${spec.topic} with ${replication} replicas on a cluster of ${brokers} broker(s): ` +
        'lower TOPIC_REPLICATION_FACTOR or start the missing brokers',
    )
  }
  const minInsync = minInsyncReplicas(replication)
  const created = await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic: spec.topic,
        numPartitions: spec.partitions,
        replicationFactor: replication,
        configEntries: [
          ...configs,
          ...(replication >= 3 ? [{ name: 'min.insync.replicas', value: String(minInsync) }] : []),
        ],
      },
    ],
  })
  // false means another client created it between our list and our create: fine.
  if (created) {
    log.info('created topic', {
      topic: spec.topic,
      ...Object.fromEntries(configs.map(({ name, value }) => [name, value])),
      partitions: spec.partitions,
      replication,
      minInsyncReplicas: minInsync,
    })
  }
}

/** The values of the topic's settings `names` (the broker's default where the topic sets none). */
export async function topicConfigs(
  admin: Admin,
  topic: string,
  names: readonly string[],
): Promise<Map<string, string>> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [...names] }],
  })
  const values = new Map<string, string>()
  for (const entry of described.resources[0]?.configEntries ?? [])
    values.set(entry.configName, entry.configValue)
  return values
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

/** The end offset of one partition on each of `topics`, through a short-lived admin connection. */
export async function partitionEnds(
  admin: Admin,
  topics: readonly string[],
  partition: number,
): Promise<Map<string, number>> {
  await admin.connect()
  try {
    const ends = await Promise.all(
      topics.map(
        async (topic) => [topic, (await topicOffsets(admin, topic)).ends.get(partition) ?? 0] as const,
      ),
    )
    return new Map(ends)
  } finally {
    await admin.disconnect()
  }
}
