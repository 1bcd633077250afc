import { describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onCleanup } from '../helpers.ts'

const script = join(import.meta.dir, '../../scripts/kafka.sh')

/** Runs scripts/kafka.sh for a second, private broker (its own ports and folder), not the shared one. */
function kafkaSh(home: string, command: string) {
  const run = Bun.spawnSync(['bash', script, command], {
    env: {
      ...process.env,
      KAFKA_RUNNER: 'native',
      KAFKA_HOME_DIR: home,
      BOOTSTRAP_SERVERS: 'localhost:19092',
      KAFKA_CONTROLLER_PORT: '19093',
      KAFKA_SASL_PORT: '19094',
    },
  })
  return { code: run.exitCode, out: `${run.stdout.toString()}${run.stderr.toString()}` }
}

describe('scripts/kafka.sh', () => {
  it('starts a broker that answers, does nothing on a second start, and stops only its own', () => {
    const home = mkdtempSync(join(tmpdir(), 'saldo-kafka-'))
    onCleanup(() => {
      kafkaSh(home, 'stop')
      rmSync(home, { recursive: true, force: true })
    })
    expect(kafkaSh(home, 'status')).toMatchObject({
      code: 1,
      out: expect.stringContaining('no broker answers on localhost:19092'),
    })

    const first = kafkaSh(home, 'start')
    expect(first.code).toBe(0)
    expect(first.out).toContain('broker ready on localhost:19092')
    expect(kafkaSh(home, 'status')).toMatchObject({
      code: 0,
      out: expect.stringContaining('answers on localhost:19092 (native, pid'),
    })

    const second = kafkaSh(home, 'start')
    expect(second).toMatchObject({ code: 0, out: expect.stringContaining('already answers') })

    expect(kafkaSh(home, 'stop').code).toBe(0)
    expect(kafkaSh(home, 'status').code).toBe(1)
    expect(kafkaSh(home, 'stop').out).toContain('nothing to stop')
  })
})
