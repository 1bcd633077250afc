import type { StoreOrigin } from '../store/store.ts'

/** What the store holds at boot. */
export interface StoredState {
  origin: StoreOrigin | undefined
  /** partition → next offset (the checkpoint). */
  positions: ReadonlyMap<number, number>
}

/** What Kafka says now. */
export interface TopicState {
  topic: string
  clusterId: string
  /** partition → log start offset. */
  starts: ReadonlyMap<number, number>
  /** partition → end offset. */
  ends: ReadonlyMap<number, number>
}

/**
 * Why the stored state cannot be continued from this topic, or undefined when it can. Continuing
 * from a state of another history would serve a mix of two histories; rebuilding never does.
 * (kafkajs does not expose topic ids, so a topic recreated and refilled past every checkpoint with
 * the same partition count looks the same as the old one.)
 */
export function distrustReason(stored: StoredState, now: TopicState): string | undefined {
  const { origin, positions } = stored
  if (!origin) {
    return positions.size > 0
      ? 'the snapshot does not say which topic and cluster it was built from'
      : undefined
  }
  if (origin.clusterId !== now.clusterId) {
    return `the snapshot was built from cluster ${origin.clusterId}, this is cluster ${now.clusterId}`
  }
  if (origin.topic !== now.topic) return `the snapshot was built from topic ${origin.topic}, not ${now.topic}`
  if (origin.partitions !== now.ends.size) {
    return `the topic has ${now.ends.size} partitions, the snapshot was built from ${origin.partitions}: it was recreated or resized`
  }
  for (const [partition, checkpoint] of positions) {
    const end = now.ends.get(partition)
    const start = now.starts.get(partition) ?? 0
    if (end === undefined) return `partition ${partition} of the snapshot is not in the topic`
    if (checkpoint > end) {
      return `partition ${partition}: the checkpoint ${checkpoint} is past the end offset ${end}: the topic was recreated or truncated`
    }
    if (checkpoint < start) {
      return `partition ${partition}: the checkpoint ${checkpoint} is before the log start offset ${start}: records the snapshot never saw were deleted`
    }
  }
  return undefined
}
