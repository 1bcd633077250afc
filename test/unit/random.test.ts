import { describe, expect, it } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCommand } from '../helpers.ts'

const ROOT = join(import.meta.dir, '../..')

/** `bun test` on the fixture, from the repository (so the preload applies), with `env`. */
async function runFixture(env: Record<string, string>) {
  const { stdout, stderr, exitCode } = await runCommand(
    [process.execPath, 'test', './test/unit/random-fixture.ts'],
    {
      cwd: ROOT,
      env: { TEST_SEED: '', RANDOM_FIXTURE: '', ...env },
    },
  )
  const draws = stdout.split('\n').filter((line) => /^(first|second) /.test(line))
  return { draws, stderr, exitCode }
}

describe('random test data', () => {
  it('is the same for the same TEST_SEED, each test drawing from the seed on, and differs for another', async () => {
    const one = await runFixture({ TEST_SEED: '12345' })
    const again = await runFixture({ TEST_SEED: '12345' })
    const other = await runFixture({ TEST_SEED: '54321' })
    expect(one.exitCode).toBe(0)
    expect(one.draws).toHaveLength(2)
    expect(again.draws).toEqual(one.draws)
    expect(other.draws).not.toEqual(one.draws)
    // Each test starts the stream from the seed: one test alone draws what it drew among the others.
    const [first, second] = one.draws.map((line) => line.split(' ')[1])
    expect(second).toBe(first)
  })

  for (const how of ['fail', 'timeout']) {
    it(`prints the seed and how to replay it when a test that draws data ${how === 'fail' ? 'fails' : 'times out'}`, async () => {
      const run = await runFixture({ TEST_SEED: '777', RANDOM_FIXTURE: how })
      expect(run.exitCode).toBe(1)
      expect(run.stderr).toContain(
        `test data drawn from TEST_SEED=777; replay with TEST_SEED=777 bun test <this file> -t "${how === 'fail' ? 'fails' : 'times out'} when asked to"`,
      )
      // Once per failing test, not for the ones that pass.
      expect(run.stderr.split('TEST_SEED=777;').length - 1).toBe(1)
    })
  }

  it('draws a fresh seed when TEST_SEED is not set, and refuses one that is not a 32-bit integer', async () => {
    const [a, b] = await Promise.all([runFixture({}), runFixture({})])
    expect(a.draws).not.toEqual(b.draws)
    const bad = await runFixture({ TEST_SEED: 'abc' })
    expect(bad.exitCode).not.toBe(0)
    expect(bad.stderr).toContain('TEST_SEED="abc": expected an integer 0..4294967295')
  })

  it('is the only source of random data in the tests: no test calls Math.random', () => {
    const files = readdirSync(join(ROOT, 'test'), { recursive: true, encoding: 'utf8' }).filter(
      (file) => file.endsWith('.ts') && file !== 'random.ts' && file !== join('unit', 'random.test.ts'),
    )
    expect(files.length).toBeGreaterThan(20)
    const offenders = files.filter((file) =>
      readFileSync(join(ROOT, 'test', file), 'utf8').includes('Math.random('),
    )
    expect(offenders).toEqual([])
  })
})
