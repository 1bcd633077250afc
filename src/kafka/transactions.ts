import type { Message } from 'kafkajs'
import type { Placement } from './producer.ts'

// The interface shared by the issue-16 branches (the shared contract): the movements side writes
// through it, the transactional producer implements it. Only the types live here.

/** A record for one of saldo's topics. */
export interface TopicRecord {
  topic: string
  message: Message
}

export interface PartitionTransactions {
  /** Becomes the only writer of `partition` (its initTransactions fences any older one). */
  acquire(partition: number): Promise<void>
  /** Stops writing `partition` (aborts nothing committed; in-flight transactions finish or fail). */
  release(partition: number): Promise<void>
  /**
   * Appends the records to `partition` of their topics in ONE Kafka transaction; resolves with where
   * each landed, in order, once committed. Rejects when not acquired or fenced. One at a time per partition.
   */
  append(partition: number, records: TopicRecord[]): Promise<Placement[]>
  close(): Promise<void>
}
