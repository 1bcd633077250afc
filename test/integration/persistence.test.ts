import { describe, expect, test } from 'bun:test'
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { Message } from 'kafkajs'
import type { ReadyBody } from '../../src/kafka/readiness.ts'
import { SNAPSHOT_FILE } from '../../src/store/persistent-store.ts'
import {
  balanceRecord,
  captureLog,
  createTopic,
  expectServesTopic,
  seededIt as it,
  onCleanup,
  produce,
  random,
  randomInt,
  readiness,
  recreateTopic,
  type ServiceProcess,
  spawnService,
  startService,
  tempDir,
  waitFor,
  waitUntilReady,
} from '../helpers.ts'

/** `count` records over `keys` keys: new balances, and one tombstone in twenty. */
function records(count: number, keys: number, prefix = 'c'): Message[] {
  return Array.from({ length: count }, () => {
    const id = `${prefix}${randomInt(keys)}`
    return random() < 0.05 ? { key: id, value: null } : balanceRecord(id, randomInt(1e8) / 100)
  })
}

/**
 * kill -9 within the next 20 ms. The child answers HTTP only between two batches: a kill sent right on
 * an answer would land there every time, never inside a batch. A random delay lets it land anywhere.
 */
async function killSoon(victim: ServiceProcess): Promise<void> {
  setTimeout(() => victim.proc.kill(9), random() * 20)
  await victim.proc.exited
}

/** A 3-partition topic of `messages`, and a STATE_DIR with its snapshot, left by a service that stopped. */
async function stoppedWithSnapshot(messages: Message[]) {
  const topic = await createTopic({ partitions: 3 })
  const stateDir = tempDir()
  await produce(topic, messages)
  const first = startService(topic, { STATE_DIR: stateDir })
  await waitUntilReady(first)
  const before = await readiness(first)
  await first.stop()
  return { topic, stateDir, before }
}

function run(command: string[]): void {
  const result = Bun.spawnSync(command, { stderr: 'pipe' })
  if (!result.success) throw new Error(`${command.join(' ')} failed: ${result.stderr.toString().trim()}`)
}

/**
 * A small filesystem of its own (an ext4 image, loop-mounted), so that a test can fill the disk for
 * real; unmounted after the test. Mounting needs root, as the test machines run.
 */
function smallFilesystem(megabytes: number) {
  const home = tempDir('saldo-fs-')
  const image = join(home, 'fs.img')
  const dir = join(home, 'mnt')
  mkdirSync(dir)
  run(['truncate', '-s', `${megabytes}M`, image])
  run(['mkfs.ext4', '-q', '-m', '0', image])
  run(['mount', '-o', 'loop', image, dir])
  onCleanup(() => run(['umount', dir]))
  const filler = join(dir, 'filler')
  return {
    dir,
    /**
     * Writes a file until the filesystem has no block left. ext4 refuses a write early while delayed
     * allocations are pending, so each size is written again after an fsync, down to one block.
     */
    fill(): void {
      const fd = openSync(filler, 'w')
      try {
        for (const size of [64 * 1024, 4096, 1024]) {
          const chunk = Buffer.alloc(size)
          for (let refused = 0; refused < 2; ) {
            try {
              writeSync(fd, chunk)
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
              fsyncSync(fd)
              refused++
            }
          }
        }
      } finally {
        closeSync(fd)
      }
    },
    free(): void {
      rmSync(filler)
    },
  }
}

const applied = (ready: ReadyBody) => ready.partitions.reduce((sum, p) => sum + p.position, 0)

describe('durable state in STATE_DIR', () => {
  it('after kill -9 at random points of the replay, every restart serves exactly the topic', async () => {
    const topic = await createTopic({ partitions: 3 })
    // Small fetches: the replay is many batches, so many transactions for the kill to land in.
    const env = { STATE_DIR: tempDir(), FETCH_MAX_BYTES_PER_PARTITION: '32768' }
    let killedMidReplay = 0
    for (let round = 0; round < 6; round++) {
      await produce(topic, records(10_000, 4000))
      const victim = spawnService(topic, env)
      const fraction = 0.1 + random() * 0.8
      const seen = await waitFor(
        async () => {
          const ready = await readiness(victim)
          const total = ready.replayedOffsets + ready.remaining
          const far = ready.partitions.length > 0 && ready.replayedOffsets >= fraction * total
          return ready.ready || far ? ready : undefined
        },
        { intervalMs: 5, what: `the replay to pass ${Math.round(fraction * 100)}%` },
      )
      await killSoon(victim)
      if (!seen.ready) killedMidReplay++

      const restarted = spawnService(topic, env)
      await waitUntilReady(restarted)
      await expectServesTopic(restarted, topic)
      restarted.proc.kill(9)
      await restarted.proc.exited
    }
    // Otherwise this test would not test what it says.
    expect(killedMidReplay).toBeGreaterThan(0)
  })

  it('after kill -9 at random points of the tail, every restart serves exactly the topic', async () => {
    const topic = await createTopic({ partitions: 3 })
    const env = { STATE_DIR: tempDir() }
    await produce(topic, records(5000, 2000))
    let service = spawnService(topic, env)
    await waitUntilReady(service)
    for (let round = 0; round < 3; round++) {
      const target = applied(await readiness(service)) + 1 + randomInt(4000)
      const burst = records(6000, 2000)
      // Many small sends: the service applies them as they come, one batch after another.
      const producing = (async () => {
        for (let i = 0; i < burst.length; i += 200) await produce(topic, burst.slice(i, i + 200))
      })()
      const victim = service
      await waitFor(async () => applied(await readiness(victim)) >= target, {
        intervalMs: 5,
        what: `offset ${target} to be applied`,
      })
      await killSoon(victim)
      await producing

      service = spawnService(topic, env)
      await waitUntilReady(service)
      await expectServesTopic(service, topic)
    }
  })

  it('is ready before the replay is on disk; a kill -9 meanwhile leaves the snapshot as it was', async () => {
    const topic = await createTopic({ partitions: 3 })
    const env = { STATE_DIR: tempDir() }
    // 150,000 keys: the group written at readiness takes ten slices, a few hundred ms on any machine.
    const keys = 150_000
    await produce(
      topic,
      Array.from({ length: keys }, (_, i) => balanceRecord(`k${i}`, i / 100)),
    )
    const victim = spawnService(topic, env)
    await waitFor(async () => (await readiness(victim)).ready, { intervalMs: 5, what: 'the first ready' })
    // Killed mid-write, at once: the restart finds no rows and replays the whole topic.
    victim.proc.kill(9)
    await victim.proc.exited
    expect(victim.stderr()).not.toContain("the replay's last group is in the local snapshot")
    const restarted = spawnService(topic, env)
    await waitUntilReady(restarted)
    expect(await readiness(restarted)).toMatchObject({ loadedFromSnapshot: 0, replayedOffsets: keys })
    await expectServesTopic(restarted, topic)
    // Left to finish, the write lands: the next start loads every key and replays nothing.
    await waitFor(() => restarted.stderr().includes("the replay's last group is in the local snapshot"), {
      what: 'the group written',
    })
    restarted.proc.kill(9)
    await restarted.proc.exited
    const third = spawnService(topic, env)
    await waitUntilReady(third)
    expect(await readiness(third)).toMatchObject({ loadedFromSnapshot: keys, replayedOffsets: 0 })
    await expectServesTopic(third, topic)
  })

  it('replays only the records that came after the snapshot', async () => {
    const { topic, stateDir, before } = await stoppedWithSnapshot(records(3000, 1000))
    expect(before).toMatchObject({ loadedFromSnapshot: 0, replayedOffsets: 3000 })

    await produce(topic, records(137, 1000))
    const second = startService(topic, { STATE_DIR: stateDir })
    await waitUntilReady(second)
    expect(await readiness(second)).toMatchObject({ loadedFromSnapshot: before.keys, replayedOffsets: 137 })
    await expectServesTopic(second, topic)
  })

  it('is ready at once when nothing came after the snapshot, and can stop before it has even connected', async () => {
    const { topic, stateDir } = await stoppedWithSnapshot(records(500, 200))

    // kafkajs logs an error when its connect is cut short; that is expected here.
    const second = startService(topic, { STATE_DIR: stateDir }, captureLog().log)
    await new Promise<void>((resolve) => second.numbers.progress.onReady(resolve))
    expect(second.numbers.progress.replayedOffsets).toBe(0)
    // Ready came from the snapshot, before the consumer connected: stopping now once left it running.
    await second.stop()
  }, 30_000)

  const recreations: Array<[string, number, number, string]> = [
    ['fewer records (checkpoints past the end)', 3, 30, 'is past the end offset'],
    ['another partition count', 2, 3000, 'the topic has 2 partitions, the snapshot was built from 3'],
  ]
  for (const [name, partitions, count, reason] of recreations) {
    it(`rebuilds from the beginning when the topic was recreated with ${name}`, async () => {
      const { topic, stateDir } = await stoppedWithSnapshot(records(1000, 300, 'old-'))

      await recreateTopic(topic, { partitions })
      await produce(topic, records(count, 500, 'new-'))
      const { log, lines } = captureLog('warn')
      const second = startService(topic, { STATE_DIR: stateDir }, log)
      await waitUntilReady(second)
      const warning = lines.find((l) => String(l.msg).startsWith('the local snapshot cannot be trusted'))
      expect(String(warning?.reason)).toContain(reason)
      expect(await readiness(second)).toMatchObject({ loadedFromSnapshot: 0, replayedOffsets: count })
      // No key of the old topic survives: the key count is that of the new topic alone.
      await expectServesTopic(second, topic)
    })
  }

  it('moves a corrupt snapshot aside with a warning and rebuilds, without crashing', async () => {
    const { topic, stateDir } = await stoppedWithSnapshot(records(5000, 3000))

    const file = join(stateDir, SNAPSHOT_FILE)
    const fd = openSync(file, 'r+')
    writeSync(fd, Buffer.alloc(8192, 0xab), 0, 8192, Math.floor(statSync(file).size / 2))
    closeSync(fd)
    const { log, lines } = captureLog('warn')
    const second = startService(topic, { STATE_DIR: stateDir }, log)
    await waitUntilReady(second)
    expect(lines.map((l) => l.msg)).toContain(
      'the local snapshot is corrupt; moved it aside, rebuilding from the beginning of the topic',
    )
    expect(readdirSync(stateDir).filter((f) => f.startsWith(`${SNAPSHOT_FILE}.corrupt-`))).toHaveLength(1)
    expect(await readiness(second)).toMatchObject({ loadedFromSnapshot: 0, replayedOffsets: 5000 })
    await expectServesTopic(second, topic)
  })

  it('refuses a second process on the same STATE_DIR, naming the folder and the holder; kill -9 frees it', async () => {
    const topic = await createTopic()
    const stateDir = tempDir()
    const holder = spawnService(topic, { STATE_DIR: stateDir })
    await waitUntilReady(holder)

    const second = spawnService(topic, { STATE_DIR: stateDir })
    expect(await second.proc.exited).toBe(1)
    const message = `STATE_DIR=${stateDir} is in use by another saldo-api (pid ${holder.proc.pid} on host`
    await waitFor(() => second.stderr().includes(message), { what: `"${message}" on stderr` })

    holder.proc.kill(9)
    await holder.proc.exited
    await waitUntilReady(spawnService(topic, { STATE_DIR: stateDir }))
  })
})

describe('a STATE_DIR that fills up while saldo runs', () => {
  test.skipIf(process.getuid?.() !== 0)(
    'answers 503 with the cause while batches cannot be written, and catches up by itself once space returns',
    async () => {
      const disk = smallFilesystem(8)
      const topic = await createTopic({ partitions: 1 })
      await produce(topic, [balanceRecord('before', 1)])
      const service = startService(topic, { STATE_DIR: join(disk.dir, 'state') })
      await waitUntilReady(service)

      disk.fill()
      await produce(
        topic,
        Array.from({ length: 200 }, (_, i) => balanceRecord(`late-${i}`, i)),
      )
      const stuck = await waitFor(
        async () => {
          const res = await service.get('/ready')
          return res.status === 503 ? ((await res.json()) as ReadyBody) : undefined
        },
        { what: '/ready to answer 503 while the disk is full' },
      )
      expect(stuck.storeError).toContain('database or disk is full')
      expect(await (await service.get('/metrics')).text()).toContain('\nsaldo_ready 0\n')
      for (const path of ['/saldo/before', '/saldos?ids=before,late-1']) {
        const res = await service.get(path)
        expect(res.status).toBe(503)
        expect(res.headers.get('retry-after')).toBeTruthy()
        expect((await res.json()).error).toContain('this instance is behind the topic')
      }

      disk.free()
      await waitUntilReady(service, 90_000)
      await expectServesTopic(service, topic)
      expect((await readiness(service)).storeError).toBeUndefined()
    },
  )
})
