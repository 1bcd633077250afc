import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { PhaseContext } from './group.ts'
import { commit, load, reportHeader } from './machine.ts'
import { measureMovements, movementTargets } from './movements.ts'
import { measurePartitionedAlone, partitionedTargets } from './partitioned.ts'
import type { Plan } from './plan.ts'
import { type PhaseReport, renderPhaseMarkdown } from './report.ts'

/**
 * `bun run bench --only movements|partitioned`: that phase alone, as the full run measures it;
 * writes <phase>-report.md and <phase>-report.json, and prints the Markdown.
 */
export async function benchPhaseOnly(
  plan: Plan,
  phase: 'movements' | 'partitioned',
  ctx: PhaseContext,
): Promise<void> {
  const started = performance.now()
  const loadAtStart = load()
  const measured = commit(ctx.root)
  const figures =
    phase === 'movements'
      ? { movements: await measureMovements(ctx) }
      : { partitioned: await measurePartitionedAlone(ctx, plan.keys) }
  const report: PhaseReport = {
    header: reportHeader(plan, ctx.root, started, loadAtStart, measured),
    ...figures,
    targets: [
      ...(figures.movements ? movementTargets(figures.movements) : []),
      ...(figures.partitioned ? partitionedTargets(figures.partitioned) : []),
    ],
  }
  mkdirSync(plan.outDir, { recursive: true })
  writeFileSync(join(plan.outDir, `${phase}-report.json`), `${JSON.stringify(report, null, 2)}\n`)
  const markdown = renderPhaseMarkdown(report)
  writeFileSync(join(plan.outDir, `${phase}-report.md`), markdown)
  process.stdout.write(markdown)
}
