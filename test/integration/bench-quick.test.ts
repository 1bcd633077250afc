import { expect, it } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Value } from '@sinclair/typebox/value'
import { Report } from '../../scripts/bench/report.ts'
import { BOOTSTRAP_SERVERS, onCleanup } from '../helpers.ts'

const ROOT = join(import.meta.dir, '../..')

// Proves that the benchmark works end to end; how fast saldo is stays out of the tests.
it('bun run bench --quick measures every figure of the report', async () => {
  const out = mkdtempSync(join(tmpdir(), 'saldo-bench-quick-'))
  onCleanup(() => rmSync(out, { recursive: true, force: true }))
  const bench = Bun.spawn(['bun', 'scripts/bench/main.ts', '--quick', '--out', out], {
    cwd: ROOT,
    env: { ...process.env, BOOTSTRAP_SERVERS },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [log, code] = await Promise.all([new Response(bench.stderr).text(), bench.exited])
  expect({ code, log: code === 0 ? '' : log }).toEqual({ code: 0, log: '' })

  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))
  // The schema wants a number in every figure: a NaN or Infinity is written as null and fails here.
  expect([...Value.Errors(Report, report)].map((e) => `${e.path}: ${e.message}`)).toEqual([])
  const checked = report as Report
  expect(checked.replay.map((t) => `${t.name} ${t.partitions}p: ${t.saldo.length} variants`)).toEqual([
    'clean 1p: 2 variants',
    'clean 3p: 2 variants',
    'dirty 1p: 2 variants',
    'dirty 3p: 2 variants',
  ])
  expect(checked.partitioned.layouts.map((l) => l.keysHeld.length)).toEqual([1, 2, 3])
  // The failover run on the clean 3-partition topic: every partition judged, one of them the killed instance's.
  const failover = checked.partitioned.failover
  expect(failover.partitions.map((run) => [run.length, run.filter((p) => p.ofKilled).length])).toEqual([
    [3, 1],
  ])
  expect(failover.answers.right.median).toBeGreaterThan(0)
  expect(failover.newOwnerMs.median).toBeGreaterThan(0)
  expect(checked.targets.length).toBe(20)
  const markdown = readFileSync(join(out, 'report.md'), 'utf8')
  for (const section of [
    'Replay',
    'Restart',
    'Memory',
    'HTTP',
    'Freshness',
    'Startup',
    'Failover',
    'Movements',
    'Partitioned',
    'Failover: kill -9 of one of 3 instances',
    'Targets',
  ]) {
    expect(markdown).toContain(`## ${section}`)
  }
}, 420_000)
