import { describe, expect, it } from 'bun:test'
import { OwnedPartitions, PartitionMoving } from '../../src/kafka/owned-partitions.ts'
import { Fenced, Stopped } from '../../src/kafka/transaction-errors.ts'
import { captureLog, waitFor } from '../helpers.ts'
import { MemoryTransactions } from '../memory-transactions.ts'
import { StaticOwnership } from './static-ownership.ts'

const ME = 'http://me.test'
const OTHER = 'http://other.test'
const record = { topic: 'contas', message: { key: '1', value: '{}' } }

/** Transactions whose acquire waits until the test lets it finish, counting acquisitions. */
class HeldTransactions extends MemoryTransactions {
  acquired: number[] = []
  released: number[] = []
  #let: Array<() => void> = []

  override acquire(partition?: number): Promise<void> {
    this.acquired.push(partition ?? -1)
    return new Promise((resolve) => this.#let.push(resolve))
  }

  override async release(partition?: number): Promise<void> {
    this.released.push(partition ?? -1)
  }

  letAcquire(): void {
    for (const done of this.#let.splice(0)) done()
  }
}

/** Held transactions whose appends wait until the test fails them. */
class FailingLater extends HeldTransactions {
  #fail: Array<(error: Error) => void> = []

  override append(): Promise<never> {
    return new Promise((_, reject) => this.#fail.push(reject))
  }

  failAppends(error: Error): void {
    for (const fail of this.#fail.splice(0)) fail(error)
  }
}

function owned(
  owners: Record<number, string>,
  waitMs = 200,
  confirmed = true,
  transactions = new HeldTransactions(),
) {
  const ownership = new StaticOwnership(ME, owners)
  const caughtUp: number[] = []
  const confirms: number[] = []
  const partitions = new OwnedPartitions({
    ownership,
    transactions,
    catchUp: (partition) => {
      caughtUp.push(partition)
    },
    confirm: async (partition) => {
      confirms.push(partition)
      return confirmed && ownership.owned().has(partition)
    },
    retryMs: 10,
    log: captureLog().log,
  })
  return {
    ownership,
    transactions,
    caughtUp,
    confirms,
    partitions,
    take: (partition: number) => partitions.take(partition, waitMs),
  }
}

describe('OwnedPartitions', () => {
  it('takes writes for a partition only once its older writers are fenced and it is caught up', async () => {
    const { transactions, caughtUp, partitions, take } = owned({ 0: ME })
    expect(transactions.acquired).toEqual([0])
    const lease = take(0)
    // Still waiting while the acquisition is: the lease loses a race against a settled promise.
    expect(await Promise.race([lease.then(() => 'taken'), Promise.resolve('waiting')])).toBe('waiting')
    expect(caughtUp).toEqual([])
    transactions.letAcquire()
    expect(await lease).toMatchObject({ partition: 0 })
    expect(caughtUp).toEqual([0])
    expect(await partitions.append(await lease, [record])).toEqual([{ partition: 0, offset: 0 }])
  })

  it('answers PartitionMoving for a partition it does not own, and when the takeover outlasts waitMs', async () => {
    const { take } = owned({ 0: ME, 1: OTHER }, 30)
    expect(take(1)).rejects.toThrow('this instance no longer owns partition 1')
    const late = take(0)
    expect(late).rejects.toBeInstanceOf(PartitionMoving)
    expect(late).rejects.toThrow('still taking over partition 0')
  })

  it('refuses an append under the lease of an earlier acquisition: lost and given back meanwhile', async () => {
    const { ownership, transactions, partitions, take } = owned({ 0: ME })
    transactions.letAcquire()
    const lease = await take(0)
    ownership.set({ 0: OTHER })
    expect(transactions.released).toEqual([0])
    ownership.set({ 0: ME })
    transactions.letAcquire()
    expect(partitions.append(lease, [record])).rejects.toThrow('is being taken over by this instance')
    const again = await take(0)
    expect(await partitions.append(again, [record])).toHaveLength(1)
    expect(transactions.committed).toHaveLength(1)
  })

  it('takes the partition over again after a transaction whose outcome Kafka did not tell (Stopped)', async () => {
    const { transactions, partitions, take } = owned({ 0: ME })
    transactions.letAcquire()
    const lease = await take(0)
    transactions.failNext = new Stopped(0, 'consulta-saldo.contas.0')
    expect(partitions.append(lease, [record])).rejects.toBeInstanceOf(Stopped)
    await waitFor(() => transactions.acquired.length === 2, { what: 'the partition taken over again' })
    expect(partitions.append(lease, [record])).rejects.toBeInstanceOf(PartitionMoving)
  })

  it('leaves the current acquisition alone when an append of an earlier one fails as fenced (by that very takeover)', async () => {
    const transactions = new FailingLater()
    const { ownership, confirms, partitions, take } = owned({ 0: ME }, 200, true, transactions)
    transactions.letAcquire()
    const inFlight = partitions.append(await take(0), [record])
    // A rebalance takes the partition away and gives it back while the append is in flight; the new
    // acquisition fences the old producer, whose append then fails.
    ownership.set({ 0: OTHER })
    ownership.set({ 0: ME })
    transactions.letAcquire()
    await take(0)
    transactions.failAppends(new Fenced(0, 'consulta-saldo.contas.0'))
    expect(inFlight).rejects.toBeInstanceOf(Fenced)
    await inFlight.catch(() => {})
    // Taking it over a third time would fence the second acquisition's writes, for nothing.
    expect(confirms).toEqual([])
    expect(transactions.acquired).toEqual([0, 0])
  })

  it('takes the partition over again through the group after any failed transaction, not only Stopped', async () => {
    const { transactions, confirms, caughtUp, partitions, take } = owned({ 0: ME })
    transactions.letAcquire()
    const lease = await take(0)
    transactions.failNext = new Error('the request timed out')
    expect(partitions.append(lease, [record])).rejects.toThrow('the request timed out')
    await waitFor(() => transactions.acquired.length === 2, { what: 'the partition taken over again' })
    expect(confirms).toEqual([0])
    expect(partitions.append(lease, [record])).rejects.toBeInstanceOf(PartitionMoving)
    transactions.letAcquire()
    // The new acquisition reads the partition to its end before it takes a write.
    expect(await partitions.append(await take(0), [record])).toHaveLength(1)
    expect(caughtUp).toEqual([0, 0])
  })

  it('does not take a partition over again when the group no longer confirms it (a zombie would fence the owner)', async () => {
    const { transactions, partitions, take } = owned({ 0: ME }, 200, false)
    transactions.letAcquire()
    const lease = await take(0)
    transactions.failNext = new Stopped(0, 'consulta-saldo.contas.0')
    expect(partitions.append(lease, [record])).rejects.toBeInstanceOf(Stopped)
    await waitFor(() => transactions.released.length === 1, { what: 'the partition released' })
    expect(transactions.acquired).toEqual([0])
    expect(take(0)).rejects.toThrow('partition 0 is being taken over by this instance')
  })
})
