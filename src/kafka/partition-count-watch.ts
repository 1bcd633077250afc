import type { Admin } from 'kafkajs'
import type { Logger } from '../log.ts'
import { partitionCount } from './topic.ts'

export interface PartitionCountWatchOptions {
  admin: Admin
  topic: string
  intervalMs: number
  /** The partition count the state was built from. */
  expected: () => number
  /** Called (once at most) when the topic has another partition count. */
  onChange: (count: number, expected: number) => void
  log: Logger
}

/**
 * Kafka tells a consumer nothing when its topic is recreated with another partition count, or grows:
 * kafkajs notices late (at its next metadata refresh, every 5 minutes) or never, and the positions
 * of the old partitions would skip the new records. One metadata request every `intervalMs` finds
 * it; nothing is done per record.
 */
export function watchPartitionCount({
  admin,
  topic,
  intervalMs,
  expected,
  onChange,
  log,
}: PartitionCountWatchOptions) {
  let stopped = false
  /** The topic's partition count now, or undefined while it cannot be read (e.g. being recreated). */
  const check = async (): Promise<number | undefined> => {
    let count: number
    try {
      count = await partitionCount(admin, topic)
    } catch (error) {
      log.debug('cannot read the partition count of the topic; checking again later', { error })
      return undefined
    }
    if (!stopped && count !== expected()) {
      stopped = true
      onChange(count, expected())
    }
    return count
  }
  const timer = setInterval(() => void check(), intervalMs)
  return {
    check,
    stop(): void {
      stopped = true
      clearInterval(timer)
    },
  }
}
