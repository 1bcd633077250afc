import type { Kafka } from 'kafkajs'
import type { Logger } from '../log.ts'
import { minInsyncReplicas, replicationFactor, topicConfigs } from './topic.ts'

/** The replicas of one partition, as the cluster's metadata reports them (broker node ids). */
export interface PartitionReplicas {
  partition: number
  /** -1 when no replica leads. */
  leader: number
  replicas: readonly number[]
  isr: readonly number[]
}

export interface ReplicaState {
  topic: string
  /** The replication factor asked for (TOPIC_REPLICATION_FACTOR), or undefined for the cluster's default. */
  asked: number | undefined
  /** The most brokers seen in the cluster since the start: one down does not lower what is asked. */
  brokers: number
  minInsyncReplicas: number
  partitions: readonly PartitionReplicas[]
}

/** What an operator should fix about the topic's replicas; each reason a sentence. Pure. */
export function replicationWarnings(state: ReplicaState): string[] {
  const { topic, partitions } = state
  const wanted = replicationFactor(state.asked, state.brokers)
  const warnings: string[] = []
  const factor = Math.min(...partitions.map((p) => p.replicas.length))
  if (partitions.length > 0 && factor < wanted) {
    warnings.push(
      `topic ${topic} has ${factor} replica(s) per partition, fewer than the ${wanted} asked: a broker lost can lose ` +
        `acknowledged writes; add replicas with kafka-reassign-partitions`,
    )
  }
  const minInsync = minInsyncReplicas(wanted)
  if (state.minInsyncReplicas < minInsync) {
    warnings.push(
      `topic ${topic} has min.insync.replicas=${state.minInsyncReplicas}, below the ${minInsync} asked: a write may ` +
        `be acknowledged by fewer replicas. Fix: kafka-configs --alter --entity-type topics --entity-name ${topic} ` +
        `--add-config min.insync.replicas=${minInsync}`,
    )
  }
  for (const p of partitions) {
    if (p.leader < 0) {
      warnings.push(
        `partition ${p.partition} of ${topic} has no leader: writes to it fail and its reads pause until one of ` +
          `brokers [${p.replicas.join(', ')}] is back`,
      )
    } else if (p.isr.length < p.replicas.length) {
      const missing = p.replicas.filter((r) => !p.isr.includes(r))
      warnings.push(
        `partition ${p.partition} of ${topic} is under-replicated: broker(s) [${missing.join(', ')}] out of sync ` +
          `(in sync: [${p.isr.join(', ')}], leader ${p.leader})`,
      )
    }
  }
  return warnings
}

export interface ReplicationCheckDeps {
  kafka: Kafka
  topic: string
  asked: number | undefined
  intervalMs: number
  log: Logger
}

/**
 * Reads the topic's replicas from the cluster's metadata every `intervalMs` (three small admin
 * requests, never on a request's path) and keeps what /ready should warn about.
 */
export class ReplicationCheck {
  readonly #deps: ReplicationCheckDeps
  #warnings: readonly string[] = []
  #brokers = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #running: Promise<void> | undefined
  #stopped = false

  constructor(deps: ReplicationCheckDeps) {
    this.#deps = deps
  }

  warnings(): readonly string[] {
    return this.#warnings
  }

  start(): void {
    this.#running ??= this.#check()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#running
  }

  /** One check, then the next one `intervalMs` after it ended: checks never overlap. */
  async #check(): Promise<void> {
    const next = await this.#observe()
    if (next.join('\n') !== this.#warnings.join('\n')) {
      for (const warning of next) this.#deps.log.warn(warning, { topic: this.#deps.topic })
      if (next.length === 0) this.#deps.log.info('topic replicas healthy again', { topic: this.#deps.topic })
    }
    this.#warnings = next
    if (this.#stopped) return
    this.#timer = setTimeout(() => {
      this.#running = this.#check()
    }, this.#deps.intervalMs)
  }

  async #observe(): Promise<string[]> {
    const { kafka, topic, asked } = this.#deps
    const admin = kafka.admin()
    try {
      await admin.connect()
      const { brokers } = await admin.describeCluster()
      this.#brokers = Math.max(this.#brokers, brokers.length)
      const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics
      const configs = await topicConfigs(admin, topic, ['min.insync.replicas'])
      return replicationWarnings({
        topic,
        asked,
        brokers: this.#brokers,
        minInsyncReplicas: Number(configs.get('min.insync.replicas') ?? 1),
        partitions: (metadata?.partitions ?? []).map((p) => ({
          partition: p.partitionId,
          leader: p.leader,
          replicas: p.replicas,
          isr: p.isr,
        })),
      })
    } catch (error) {
      const { type, message } = error as { type?: string; message?: string }
      // kafkajs refuses metadata in which a partition has no leader; the topic missing is the
      // materializer's to create.
      if (type === 'UNKNOWN_TOPIC_OR_PARTITION') return []
      if (type === 'LEADER_NOT_AVAILABLE') {
        return [`a partition of ${topic} has no leader: writes to it fail until one of its replicas is back`]
      }
      return [`cannot check the replicas of ${topic}: ${message ?? String(error)}`]
    } finally {
      await admin.disconnect().catch(() => {})
    }
  }
}
