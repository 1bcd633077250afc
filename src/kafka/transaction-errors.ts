/** An append to a partition this instance has not acquired, or has released: nothing was written. */
export class NotOwner extends Error {
  override readonly name = 'NotOwner'

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {
    super(
      `this instance does not write partition ${partition} of ${topic} (not acquired, or released): ` +
        'nothing was written; send the write to the partition’s owner',
    )
  }
}

/**
 * Another producer initialized this partition's transactional.id after ours: another instance took
 * the partition (or the broker expired a transaction of ours that outlived its timeout, which only a
 * stalled process does). Nothing of the failed transaction is committed. Final for this acquisition.
 */
export class Fenced extends Error {
  override readonly name = 'Fenced'

  constructor(
    readonly partition: number,
    readonly transactionalId: string,
    options?: ErrorOptions,
  ) {
    super(
      `partition ${partition} is written by another instance now: it initialized transactional.id ` +
        `${transactionalId} after this one, and Kafka refused this instance's transaction (nothing of it ` +
        'is committed); send the write to the partition’s current owner, or acquire the partition again ' +
        'once the group assigns it here',
      options,
    )
  }
}

/**
 * A transaction of this partition failed: this instance cannot tell whether another one took the
 * partition meanwhile (a failure while committing does not even say whether it committed), and a new
 * producer for the id would fence that one. Final for this acquisition: the group is asked first.
 */
export class Stopped extends Error {
  override readonly name = 'Stopped'

  constructor(
    readonly partition: number,
    readonly transactionalId: string,
    options?: ErrorOptions,
  ) {
    super(
      `partition ${partition} stopped taking writes here: a transaction on it failed, and a new producer ` +
        `for transactional.id ${transactionalId} would fence any instance that took the partition ` +
        'meanwhile; acquire the partition again if this instance still owns it, else send the write to ' +
        'its owner',
      options,
    )
  }
}

// Kafka's INVALID_PRODUCER_EPOCH, and PRODUCER_FENCED, which newer request versions answer instead
// (kafkajs' old versions get the former; kafkajs does not know the latter by name).
const FENCING_CODES = new Set([47, 90])
const FENCING_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED'])

/** Whether `error`, or what it wraps (kafkajs nests the broker's error in `cause`), is Kafka fencing a producer. */
export function isFencing(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof Fenced) return true
    const { type, code } = e as { type?: unknown; code?: unknown }
    if ((typeof type === 'string' && FENCING_TYPES.has(type)) || FENCING_CODES.has(code as number))
      return true
  }
  return false
}
