import { describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dir, '../..')
/** A launch program's path inside the workspace: what follows VS Code's workspace folder variable. */
const inWorkspace = (program = '') => program.slice(program.indexOf('/') + 1)
const read = async (file: string) => JSON.parse(await Bun.file(join(root, '.vscode', file)).text())

describe('.vscode', () => {
  it('has the tasks to start Kafka, create the topic, run the API and the producer, and test', async () => {
    const { tasks } = (await read('tasks.json')) as { tasks: Array<{ label: string; command: string }> }
    const labels = tasks.map((task) => task.label)
    expect(labels).toEqual(
      expect.arrayContaining(['Start Kafka', 'Create Topic', 'Run API', 'Run Producer', 'Test']),
    )
    // Every script a task runs exists (a renamed script would leave a broken task behind).
    for (const { command } of tasks) {
      const script = /^(\.\/)?(scripts\/\S+)/.exec(command)?.[2]
      if (script) expect(existsSync(join(root, script))).toBe(true)
    }
  })

  it('debugs the API and the producer with Bun, on programs that exist', async () => {
    const { configurations } = (await read('launch.json')) as {
      configurations: Array<{ type: string; request: string; program?: string }>
    }
    const launched = configurations.filter((c) => c.request === 'launch')
    expect(launched.map((c) => inWorkspace(c.program))).toEqual(
      expect.arrayContaining(['src/bin/saldo-api.ts', 'src/bin/saldo-produce.ts']),
    )
    for (const c of configurations) expect(c.type).toBe('bun')
    for (const c of launched) expect(existsSync(join(root, inWorkspace(c.program)))).toBe(true)
  })
})
