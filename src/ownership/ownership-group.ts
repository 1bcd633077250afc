import { AssignerProtocol, type Consumer, type ConsumerGroupJoinEvent, type Kafka } from 'kafkajs'
import type { Logger } from '../log.ts'
import { ownershipAssigner } from './assigner.ts'
import type { OwnershipChange, OwnershipSource, OwnershipStatus, PartitionOwner } from './models.ts'
import { decodeJson, type Mode, OwnerMap } from './protocol.ts'

export interface OwnershipGroupDeps {
  kafka: Kafka
  topic: string
  /** Every instance with the same GROUP and TOPIC joins this group. */
  groupId: string
  /** How long the broker waits for a silent member before its partitions go to the others. */
  sessionTimeoutMs: number
  /** The pause before a new consumer after this one stopped (Kafka unreachable, topic missing). */
  retryMs: number
  /** This instance's MODE: every member of the group must run the same one. */
  mode: Mode
  /** Standbys per partition the assignment gives when this member leads in partitioned mode. */
  standbyReplicas: number
  log: Logger
}

/**
 * This instance's member of the ownership group: a kafkajs consumer subscribed to the topic that
 * never reads it (every partition it is given is paused, no offset is committed; reads are the
 * materializer's job), only there so that Kafka's group protocol gives each partition exactly one
 * owner and a new one when a member joins, leaves or dies. The owner map comes with every assignment
 * (see assigner.ts).
 *
 * The protocol is eager: when a rebalance starts, every member gives up all its partitions until the
 * new assignment, so two members never both believe they own a partition in one generation. A member
 * that misses a rebalance altogether (frozen past the session timeout) still believes it until it
 * notices; fencing the writes is the transactional producer's job, not this one's.
 */
export class OwnershipGroup implements OwnershipSource {
  generation = -1
  /** Assignments this member has received (each rebalance it took part in ends with one). */
  assignments = 0
  readonly #deps: OwnershipGroupDeps
  readonly #listeners: Array<(change: OwnershipChange) => void> = []
  #url = ''
  #memberId: string | undefined
  #owned: ReadonlySet<number> = new Set()
  /** The last assignment's map; undefined while none is valid (rebalancing, stopped). */
  #map: OwnerMap | undefined
  /** The last completed assignment's map, kept through a rebalance: where reads go meanwhile. */
  #lastMap: OwnerMap | undefined
  /** What this member tells the leader it held, and since when: kept through a rebalance (sticky). */
  #claim = { owned: [] as number[], generation: -1, standbys: [] as number[] }
  /** Partitions the last completed assignment gave this member as standby. */
  #standbys: ReadonlySet<number> = new Set()
  readonly #heldListeners: Array<(held: ReadonlySet<number>) => void> = []
  /** Set while another member of the group runs another MODE; read by /ready. */
  modeWarning: string | undefined
  #stopping = false
  #running: Promise<void> | undefined
  #consumer: Consumer | undefined
  #end: () => void = () => {}
  #wake: () => void = () => {}

  constructor(deps: OwnershipGroupDeps) {
    this.#deps = deps
  }

  /**
   * Asks the group's coordinator, not this member's memory, whether this member still owns
   * `partition`: the group is stable and its assignment there holds the partition. A member that
   * was frozen past its session timeout still believes it owns its partitions until a heartbeat tells
   * it otherwise; before it does anything that would fence another writer, it asks here.
   */
  async confirms(partition: number): Promise<boolean> {
    const memberId = this.#memberId
    if (memberId === undefined || !this.#owned.has(partition)) return false
    const admin = this.#deps.kafka.admin()
    await admin.connect()
    try {
      const { groups } = await admin.describeGroups([this.#deps.groupId])
      const group = groups[0]
      const member = group?.members.find((m) => m.memberId === memberId)
      if (group?.state !== 'Stable' || !member) return false
      const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment)
      return (assignment?.assignment[this.#deps.topic] ?? []).includes(partition)
    } finally {
      await admin.disconnect()
    }
  }

  /** Where this instance says it answers: set by start. */
  get url(): string {
    return this.#url
  }

  owned(): ReadonlySet<number> {
    return this.#owned
  }

  ownerOf(partition: number): PartitionOwner | undefined {
    return this.#ownerIn(this.#map, partition)
  }

  onChange(listener: (change: OwnershipChange) => void): void {
    this.#listeners.push(listener)
  }

  /** The partitions the last completed assignment gave this member as standby. */
  standbys(): ReadonlySet<number> {
    return this.#standbys
  }

  /** The standbys of a partition in the current generation (empty while unknown / moving). */
  standbysOf(partition: number): PartitionOwner[] {
    return this.#standbysIn(this.#map, partition)
  }

  /**
   * Where a read of `partition` may be asked: its owner, then its standbys. While a rebalance is in
   * progress, those of the last completed assignment: every member reads on what it held until an
   * assignment gives it to others (see onHeld), so their copies stay caught up meanwhile, and one
   * that is gone (the reason for the rebalance, often) refuses and the next is asked.
   */
  holdersOf(partition: number): PartitionOwner[] {
    const map = this.#map ?? this.#lastMap
    const owner = this.#ownerIn(map, partition)
    return [...(owner ? [owner] : []), ...this.#standbysIn(map, partition)]
  }

  #ownerIn(map: OwnerMap | undefined, partition: number): PartitionOwner | undefined {
    const index = map?.owners[partition]
    return index === undefined ? undefined : this.#member(map, index)
  }

  #standbysIn(map: OwnerMap | undefined, partition: number): PartitionOwner[] {
    return (map?.standbys?.[partition] ?? []).flatMap((index) => this.#member(map, index) ?? [])
  }

  #member(map: OwnerMap | undefined, index: number): PartitionOwner | undefined {
    const member = map?.members[index]
    return member && { memberId: member.memberId, url: member.url, self: member.memberId === this.#memberId }
  }

  /**
   * Called after every completed assignment with what this member holds (owned and standby). Unlike
   * `owned()`, a rebalance in progress changes nothing here: a partition's copy is kept and read on
   * until an assignment gives it to others, so that reads of it go on being answered meanwhile.
   */
  onHeld(listener: (held: ReadonlySet<number>) => void): void {
    this.#heldListeners.push(listener)
  }

  status(): OwnershipStatus {
    const owners = (this.#map?.owners ?? []).flatMap((_, partition) => {
      const owner = this.ownerOf(partition)
      const standbys = this.standbysOf(partition).map((standby) => standby.url)
      return owner ? [{ partition, ...owner, standbys }] : []
    })
    return {
      group: this.#deps.groupId,
      url: this.#url,
      mode: this.#deps.mode,
      generation: this.generation,
      rebalancing: this.#map === undefined,
      owned: [...this.#owned].sort((a, b) => a - b),
      standbys: [...this.#standbys].sort((a, b) => a - b),
      owners,
    }
  }

  /** Joins the group, advertising `url`, and stays in it (a new consumer after a failure) until stop. */
  start(url: string): void {
    this.#url = url
    this.#running ??= this.#run()
  }

  /** Leaves the group, so that this instance's partitions go to the others at once. */
  async stop(): Promise<void> {
    this.#stopping = true
    this.#wake()
    this.#end()
    await this.#consumer?.disconnect()
    await this.#running
  }

  async #run(): Promise<void> {
    const { log, retryMs, groupId } = this.#deps
    while (!this.#stopping) {
      const reason = await this.#session().catch((error: unknown) => error)
      this.#release('the ownership consumer stopped')
      if (this.#stopping) break
      // At the first start on a new topic the materializer is creating it: nothing is wrong yet.
      if ((reason as { type?: string } | undefined)?.type === 'UNKNOWN_TOPIC_OR_PARTITION') {
        log.info('ownership group: waiting for the topic to exist', { groupId, retryInMs: retryMs })
      } else {
        log.error('ownership group: the consumer stopped; this instance owns no partition until it rejoins', {
          groupId,
          error: reason,
          retryInMs: retryMs,
        })
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryMs)
        this.#wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }

  /** One consumer, from joining until it crashes or stop() ends it; resolves with why it ended. */
  async #session(): Promise<unknown> {
    const { kafka, topic, groupId, sessionTimeoutMs } = this.#deps
    // Heartbeats at a tenth of the session (Kafka asks for less than a third): a member learns that a
    // rebalance started, and releases its partitions, within about a second at the default.
    const heartbeatInterval = Math.max(100, Math.floor(sessionTimeoutMs / 10))
    const consumer = kafka.consumer({
      groupId,
      partitionAssigners: [
        ownershipAssigner({
          topic,
          subscription: () => ({ url: this.#url, mode: this.#deps.mode, ...this.#claim }),
          standbyReplicas: this.#deps.standbyReplicas,
        }),
      ],
      sessionTimeout: sessionTimeoutMs,
      // Members have nothing to finish before they rejoin: one that does not within a session is gone.
      rebalanceTimeout: sessionTimeoutMs,
      heartbeatInterval,
      // With every partition paused, the consumer loop only sleeps this long and heartbeats.
      maxWaitTimeInMs: Math.max(50, Math.floor(heartbeatInterval / 4)),
      allowAutoTopicCreation: false,
      // Our loop starts a fresh consumer after a crash; kafkajs restarting this one too would race it.
      retry: { restartOnFailure: async () => false },
    })
    this.#consumer = consumer
    const ended = new Promise<unknown>((resolve) => {
      this.#end = () => resolve(undefined)
      consumer.on(consumer.events.CRASH, ({ payload }) => resolve(payload.error))
    })
    consumer.on(consumer.events.REBALANCING, () => this.#release('a rebalance started'))
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      consumer.pause([{ topic }])
      this.#assigned(payload)
    })
    try {
      await consumer.connect()
      if (this.#stopping) return undefined
      await consumer.subscribe({ topic })
      if (this.#stopping) return undefined
      await consumer.run({ autoCommit: false, eachBatch: async () => {} })
      return await ended
    } finally {
      this.#consumer = undefined
      await consumer.disconnect()
    }
  }

  #assigned(payload: ConsumerGroupJoinEvent['payload']): void {
    const { generationId: generation, memberId } = payload
    const map = decodeJson(OwnerMap, `assignment of generation ${generation}`, payload.userData)
    const owned = [...(payload.memberAssignment[this.#deps.topic] ?? [])].sort((a, b) => a - b)
    const before = this.#owned
    this.generation = generation
    this.assignments++
    this.#memberId = memberId
    this.#map = map
    this.#lastMap = map
    this.#owned = new Set(owned)
    const index = map.members.findIndex((member) => member.memberId === memberId)
    const standbys = (map.standbys ?? []).flatMap((copies, p) => (copies.includes(index) ? [p] : []))
    this.#standbys = new Set(standbys)
    this.#claim = { owned, generation, standbys }
    this.#checkModes(map)
    this.#deps.log.info('ownership group: assignment', {
      generation,
      memberId,
      owned,
      standbys,
      members: map.members.length,
    })
    const held = new Set([...owned, ...standbys])
    for (const listener of this.#heldListeners) listener(held)
    this.#emit({
      generation,
      gained: owned.filter((p) => !before.has(p)),
      lost: [...before].filter((p) => !this.#owned.has(p)).sort((a, b) => a - b),
    })
  }

  /**
   * Ownership stays safe whatever the modes (one owner per partition), but a replica member never
   * forwards reads and a partitioned one holds only its share: mixing them is a mistake to fix.
   */
  #checkModes(map: OwnerMap): void {
    const { mode, log } = this.#deps
    const others = map.members.filter((member) => (member.mode ?? 'replica') !== mode)
    const warning =
      others.length === 0
        ? undefined
        : `MODE=${mode} here, but ${others.map((m) => `${m.url} runs MODE=${m.mode ?? 'replica'}`).join(', ')} in ownership group ${this.#deps.groupId}: set the same MODE on every instance of this GROUP and TOPIC`
    if (warning && warning !== this.modeWarning) log.error(warning)
    this.modeWarning = warning
  }

  /** Gives up every partition at once: from now until the next assignment this member owns none. */
  #release(reason: string): void {
    if (this.#map === undefined && this.#owned.size === 0) return
    const lost = [...this.#owned].sort((a, b) => a - b)
    this.#owned = new Set()
    this.#map = undefined
    this.#deps.log.info('ownership group: partitions released', { reason, lost })
    this.#emit({ generation: this.generation, gained: [], lost })
  }

  #emit(change: OwnershipChange): void {
    for (const listener of this.#listeners) listener(change)
  }
}
