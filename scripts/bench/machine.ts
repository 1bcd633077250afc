import { readdirSync } from 'node:fs'
import { cpus, loadavg, release, totalmem } from 'node:os'
import { join } from 'node:path'
import type { Header } from './report.ts'

/** The Kafka version of the broker's jars (kafka-clients-X.jar), which the perf tests run on. */
function kafkaVersion(root: string): string {
  const libs = join(root, '.kafka/libs')
  const jar = readdirSync(libs).find((name) => /^kafka-clients-.*\.jar$/.test(name))
  return jar?.replace(/^kafka-clients-(.*)\.jar$/, '$1') ?? 'unknown'
}

/** The checkout being measured; read at the start, before anything can change it. */
export function commit(root: string): string {
  const run = Bun.spawnSync(['git', 'describe', '--always', '--dirty'], { cwd: root })
  return run.stdout.toString().trim() || 'unknown'
}

/** What the report's header says about this machine; called once the jars are fetched. */
export function describeMachine(
  root: string,
): Omit<Header, 'date' | 'mode' | 'runs' | 'minutes' | 'loadAverage' | 'commit'> {
  const cores = cpus()
  return {
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    memoryGB: Math.round(totalmem() / 1024 ** 3),
    os: `Linux ${release()}`,
    bun: Bun.version,
    kafka: kafkaVersion(root),
  }
}

export const load = (): number[] => loadavg().map((x) => Math.round(x * 100) / 100)

/** The header of a report whose run started at `started` (performance.now()) on commit `measured`. */
export function reportHeader(
  plan: Pick<Header, 'mode' | 'runs'>,
  root: string,
  started: number,
  loadAtStart: number[],
  measured: string,
): Header {
  return {
    date: new Date().toISOString(),
    mode: plan.mode,
    runs: plan.runs,
    minutes: (performance.now() - started) / 60_000,
    ...describeMachine(root),
    commit: measured,
    loadAverage: { start: loadAtStart, end: load() },
  }
}
