import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONNECTIONS, measureSideBySide, type NamedTarget, startBareServer } from './http-load.ts'
import { ApiProcess } from './instance.ts'
import { BenchTopics, produceBalances } from './kafka-tools.ts'
import { commit, load, reportHeader } from './machine.ts'
import type { Plan } from './plan.ts'
import { type HttpReport, renderHttpMarkdown } from './report.ts'

/**
 * `bun run bench --only http [--baseline REF]`: GET /saldo/:id of this checkout's saldo-api, the
 * baseline's and the bare Bun.serve, over the same keys, runs interleaved. Each instance runs with a
 * token and its metrics on, as in production. Writes http-report.md and http-report.json.
 */
export async function benchHttpOnly(
  plan: Plan,
  ctx: { root: string; workDir: string; say: (line: string) => void },
  bins: { current: string; baseline?: string },
  token: string,
): Promise<void> {
  const started = performance.now()
  const loadAtStart = load()
  const measured = commit(ctx.root)
  const topics = new BenchTopics(plan.bootstrap)
  const apis: ApiProcess[] = []
  let bare: Awaited<ReturnType<typeof startBareServer>> | undefined
  try {
    const topic = await topics.create('clean-3p', 3)
    const produced = await produceBalances(ctx.root, plan.bootstrap, topic, plan.keys, plan.keys)
    ctx.say(`produced ${topic}: ${plan.keys} records in ${(produced.ms / 1000).toFixed(1)} s`)
    const named: Array<[string, string]> = [['saldo-api', bins.current]]
    if (bins.baseline) named.push([`saldo-api of ${plan.baseline}`, bins.baseline])
    const servers: NamedTarget[] = []
    for (const [i, [name, bin]] of named.entries()) {
      const api = new ApiProcess({
        bin,
        bootstrap: plan.bootstrap,
        topic,
        stateDir: 'memory',
        logDir: ctx.workDir,
        name: `serving-${i}`,
        env: { SALDO_API_TOKEN: token },
      })
      apis.push(api)
      await api.msUntil('/ready')
      servers.push({ name, url: api.url, token })
    }
    bare = await startBareServer(plan.keys)
    servers.push({ name: 'bare Bun.serve', url: bare.url, token })
    const http = await measureSideBySide(servers, plan.keys, plan.httpSeconds, plan.runs, ctx.say)
    const bareP99 = http.servers.at(-1)?.half.p99Ms.median ?? Number.NaN
    const report: HttpReport = {
      header: reportHeader(plan, ctx.root, started, loadAtStart, measured),
      keys: plan.keys,
      seconds: plan.httpSeconds,
      connections: CONNECTIONS,
      rate: http.rate,
      servers: http.servers.map((s) => ({ ...s, p99VsBare: s.half.p99Ms.median / bareP99 })),
    }
    mkdirSync(plan.outDir, { recursive: true })
    writeFileSync(join(plan.outDir, 'http-report.json'), `${JSON.stringify(report, null, 2)}\n`)
    const markdown = renderHttpMarkdown(report)
    writeFileSync(join(plan.outDir, 'http-report.md'), markdown)
    process.stdout.write(markdown)
  } finally {
    await bare?.stop()
    for (const api of apis) await api.stop()
    await topics.deleteAll()
  }
}
