import { expect } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import type { Subprocess } from 'bun'
import { Kafka, logLevel, type Message, Partitioners, type Producer } from 'kafkajs'
import { kafkaScript } from '../scripts/bench/cluster.ts'
import { freePort } from '../scripts/bench/instance.ts'
import { type Config, loadConfig } from '../src/config.ts'
import type { ReadyAnswer } from '../src/http/models.ts'
import { createLogger, type Logger } from '../src/log.ts'
import { createService, type Service } from '../src/service.ts'
import { onCleanup } from './setup.ts'

/** The one place that says where the test broker is (scripts/kafka.sh starts it there). */
export const BOOTSTRAP_SERVERS = process.env.BOOTSTRAP_SERVERS ?? 'localhost:9092'

/** The broker's SASL_PLAINTEXT listener and its user, as scripts/kafka.sh sets them up. */
export const SASL = {
  bootstrap: process.env.KAFKA_SASL_BOOTSTRAP ?? 'localhost:9094',
  username: process.env.KAFKA_SASL_USER ?? 'saldo',
  password: process.env.KAFKA_SASL_PASSWORD ?? 'saldo-secret',
}

export const kafka = new Kafka({
  clientId: 'saldo-tests',
  brokers: BOOTSTRAP_SERVERS.split(','),
  logLevel: logLevel.NOTHING,
})

export { random, randomInt, seededIt, TEST_SEED } from './random.ts'
export { onCleanup } from './setup.ts'

/** A fresh empty folder (e.g. a STATE_DIR), removed after the test. */
export function tempDir(prefix = 'saldo-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  onCleanup(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** The movements topic of a service under test on `topic` (testEnv), unique with it. */
export const movementsTopicOf = (topic: string): string => `${topic}-movimentos`

/** A topic name no other test uses. */
export function uniqueTopic(prefix = 'contas-test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

export interface WaitOptions {
  timeoutMs?: number
  intervalMs?: number
  what?: string
}

/**
 * Polls `probe` until it returns something truthy, and returns that. On timeout it fails with `what`
 * and the last value or error, so a failing test says what it was waiting for.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  options: WaitOptions = {},
): Promise<NonNullable<T>> {
  const { timeoutMs = 30_000, intervalMs = 50, what = 'condition' } = options
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value) return value as NonNullable<T>
      last = value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${detail}`)
    }
    await Bun.sleep(intervalMs)
  }
}

export interface TopicOptions {
  partitions?: number
  compact?: boolean
  configs?: Record<string, string>
}

/** The offsets of `count` changes that are the last records before `nextOffset` (a batch for `store.apply`). */
export const offsetsBefore = (nextOffset: number, count: number): number[] =>
  Array.from({ length: count }, (_, i) => nextOffset - count + i)

/** Creates a fresh topic (compacted by default) and deletes it after the test. */
export async function createTopic(options: TopicOptions = {}): Promise<string> {
  const topic = uniqueTopic()
  await createNamedTopic(topic, options)
  // A service on it creates its movements topic (testEnv's MOVEMENTS_TOPIC): that one goes too.
  onCleanup(() => Promise.all([deleteTopic(topic), deleteTopic(movementsTopicOf(topic))]))
  return topic
}

/** Deletes `topic` and creates it again, empty: what an operator does to "reset" a topic. */
export async function recreateTopic(topic: string, options: TopicOptions = {}): Promise<void> {
  // The idempotent producer's sequence numbers belong to the old partitions.
  const producer = producers.get(topic)
  producers.delete(topic)
  await (await producer)?.disconnect()
  await deleteTopic(topic)
  // The broker deletes asynchronously: until it is done, the name still exists.
  await waitFor(() => createNamedTopic(topic, options), { what: `${topic} to be created again` })
}

/** False when the topic (still) exists. */
async function createNamedTopic(topic: string, options: TopicOptions): Promise<boolean> {
  const { partitions = 3, compact = true, configs = {} } = options
  const admin = kafka.admin()
  await admin.connect()
  try {
    const configEntries = Object.entries({
      ...(compact ? { 'cleanup.policy': 'compact' } : {}),
      ...configs,
    }).map(([name, value]) => ({ name, value }))
    return await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions, configEntries }],
    })
  } finally {
    await admin.disconnect()
  }
}

export async function deleteTopic(topic: string): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    // kafkajs retries the deletion of a missing topic for about 20 s before it gives up.
    if (!(await admin.listTopics()).includes(topic)) return
    await admin.deleteTopics({ topics: [topic] }).catch(() => {})
  } finally {
    await admin.disconnect()
  }
}

// One producer per topic: kafkajs keeps asking for the metadata of every topic a producer has
// used, and fails once another test's topic is deleted.
const producers = new Map<string, Promise<Producer>>()

/**
 * Produces `perSecond` records a second for `seconds`, in ten batches a second (made by `batch`);
 * resolves with how many were sent. Paced by a timer, so a slow send delays, never bunches, the rest.
 */
export function producePaced(
  topic: string,
  { perSecond, seconds }: { perSecond: number; seconds: number },
  batch: (tick: number, size: number) => Message[],
): Promise<number> {
  return new Promise((resolve, reject) => {
    let sent = 0
    let tick = 0
    let busy = false
    const timer = setInterval(() => {
      if (busy) return
      if (tick >= seconds * 10) {
        clearInterval(timer)
        resolve(sent)
        return
      }
      tick++
      busy = true
      const records = batch(tick, Math.round(perSecond / 10))
      produce(topic, records).then(
        () => {
          sent += records.length
          busy = false
        },
        (error) => {
          clearInterval(timer)
          reject(error)
        },
      )
    }, 100)
  })
}

/** Sends records as they are (keys and values may be anything, for poison tests); waits for acks. */
export async function produce(topic: string, messages: Message[]): Promise<void> {
  let pending = producers.get(topic)
  if (!pending) {
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true })
    pending = producer.connect().then(() => producer)
    producers.set(topic, pending)
    onCleanup(async () => {
      producers.delete(topic)
      await producer.disconnect()
    })
  }
  const producer = await pending
  for (let i = 0; i < messages.length; i += 10_000) {
    await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 10_000) })
  }
}

export function balanceRecord(id: string, saldo: number, timestamp = '2025-10-14T10:30:45'): Message {
  return { key: id, value: JSON.stringify({ cliente_id: id, saldo, timestamp }) }
}

/** One record of a topic as an independent reader sees it. */
export const ReadRecord = Type.Object({
  partition: Type.Integer(),
  offset: Type.Integer(),
  key: Type.Union([Type.String(), Type.Null()]),
  value: Type.Union([Type.String(), Type.Null()]),
})
export type ReadRecord = Static<typeof ReadRecord>

/** A line of `kcat -J`: the record in its envelope (the value is `payload`). */
const KcatLine = Type.Object({
  partition: Type.Integer(),
  offset: Type.Integer(),
  key: Type.Union([Type.String(), Type.Null()]),
  payload: Type.Union([Type.String(), Type.Null()]),
})

/**
 * A topic from the beginning to its end as kcat (librdkafka) reads it: a reader that shares no code
 * with kafkajs, so it cannot share a kafkajs defect. read_committed (the default): the committed
 * records, up to the last stable offset; read_uncommitted: every record, aborted ones too.
 */
export async function readTopicKcat(
  topic: string,
  {
    isolation = 'read_committed',
    bootstrap = BOOTSTRAP_SERVERS,
  }: { isolation?: 'read_committed' | 'read_uncommitted'; bootstrap?: string } = {},
): Promise<ReadRecord[]> {
  const run = await runCommand([
    'kcat',
    ...['-C', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-J'],
    ...['-X', `isolation.level=${isolation}`],
  ])
  if (run.exitCode !== 0)
    throw new Error(`kcat could not read ${topic} (exit ${run.exitCode}): ${run.stderr}`)
  return run.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const { partition, offset, key, payload } = Value.Parse(KcatLine, JSON.parse(line))
      return { partition, offset, key, value: payload }
    })
}

/** Reads a topic from the beginning to its current end, independently of saldo: the reference. */
export async function readTopic(topic: string, client: Kafka = kafka): Promise<ReadRecord[]> {
  const admin = client.admin()
  await admin.connect()
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]))
  await admin.disconnect()
  const records: ReadRecord[] = []
  const pending = new Set([...ends].filter(([, end]) => end > 0).map(([p]) => p))
  if (pending.size === 0) return records
  const consumer = client.consumer({ groupId: `reader-${randomUUID()}`, maxWaitTimeInMs: 100 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          records.push({
            partition: batch.partition,
            offset: Number(m.offset),
            key: m.key?.toString() ?? null,
            value: m.value?.toString() ?? null,
          })
        }
        if (Number(batch.lastOffset()) + 1 >= (ends.get(batch.partition) ?? 0))
          pending.delete(batch.partition)
        if (pending.size === 0) resolve()
      },
    })
  })
  try {
    await waitFor(() => done.then(() => true), { what: `reading ${topic} to its end` })
  } finally {
    await consumer.disconnect()
  }
  return records
}

/** The latest value of every key, from an independent read of the topic (tombstones remove keys). */
export async function latestByKey(topic: string, client: Kafka = kafka): Promise<Map<string, string>> {
  const latest = new Map<string, string>()
  for (const r of (await readTopic(topic, client)).sort(
    (a, b) => a.partition - b.partition || a.offset - b.offset,
  )) {
    if (r.key === null) continue
    if (r.value === null) latest.delete(r.key)
    else latest.set(r.key, r.value)
  }
  return latest
}

/**
 * Settings for a service under test, as environment variables: the test broker, the given topic, any
 * free port, quiet logs, and no snapshot unless the test gives a STATE_DIR.
 */
export function testEnv(topic: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    BOOTSTRAP_SERVERS,
    STATE_DIR: 'memory',
    TOPIC: topic,
    MOVEMENTS_TOPIC: movementsTopicOf(topic),
    GROUP: 'saldo-test',
    INSTANCE_ID: randomUUID().slice(0, 8),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
    FETCH_MAX_WAIT_MS: '50',
    KAFKA_RECONNECT_BACKOFF_MS: '500',
    ...overrides,
  }
}

export function testConfig(topic: string, overrides: Record<string, string> = {}): Config {
  return loadConfig(testEnv(topic, overrides))
}

/** A logger that keeps its lines, so a test can check what was logged. */
export function captureLog(level: Config['LOG_LEVEL'] = 'debug'): {
  log: Logger
  lines: Array<Record<string, unknown>>
} {
  const lines: Array<Record<string, unknown>> = []
  const log = createLogger({ LOG_LEVEL: level, LOG_FORMAT: 'json' }, {}, (line) =>
    lines.push(JSON.parse(line)),
  )
  return { log, lines }
}

/** A service under test, in this process or a child one: something that answers HTTP. */
export interface Reachable {
  url: string
  get(path: string, init?: RequestInit): Promise<Response>
}

export interface RunningService extends Service, Reachable {}

/** Starts saldo-api in this process on `topic`, and stops it after the test. */
export function startService(
  topic: string,
  overrides: Record<string, string> = {},
  log?: Logger,
): RunningService {
  const config = testConfig(topic, overrides)
  // Logs are kept out of the test output unless TEST_LOG_LEVEL asks for them.
  const quiet = process.env.TEST_LOG_LEVEL ? createLogger(config) : captureLog().log
  const service = createService(config, log ?? quiet)
  service.start()
  onCleanup(() => service.stop())
  const url = `http://127.0.0.1:${service.app.server?.port}`
  return Object.assign(service, {
    url,
    get: (path: string, init?: RequestInit) => fetch(`${url}${path}`, init),
  })
}

/** Waits until a service's /ready reports a Kafka error, and returns that /ready body. */
export function waitForKafkaError(service: Reachable) {
  return waitFor(
    async () => {
      const body = await readiness(service)
      return body.kafka.lastError ? body : undefined
    },
    { what: '/ready to report a Kafka error' },
  )
}

/** A port nobody listens on right now: a child process must be told its port up front. */
export { freePort }

export interface ServiceProcess extends Reachable {
  proc: Subprocess<'ignore', 'ignore', 'pipe'>
  /** What the process wrote on stderr so far (its log). */
  stderr(): string
}

const API_BIN = join(import.meta.dir, '../src/bin/saldo-api.ts')

export interface SpawnOptions {
  /** The process's limit of open descriptors (`ulimit -n`), to show what happens when it is reached. */
  maxOpenFiles?: number
}

/**
 * Runs saldo-api as a child process (`bun src/bin/saldo-api.ts`), for what needs a real process: kill -9,
 * two processes on one STATE_DIR or one port, a descriptor limit. On a free port unless `overrides`
 * names one. Killed after the test.
 */
export function spawnService(
  topic: string,
  overrides: Record<string, string> = {},
  { maxOpenFiles }: SpawnOptions = {},
): ServiceProcess {
  const port = overrides.PORT ? Number(overrides.PORT) : freePort()
  const command = [process.execPath, API_BIN]
  // `exec` keeps the pid: killing the process kills saldo-api, not a shell around it.
  if (maxOpenFiles) command.unshift('bash', '-c', `ulimit -n ${maxOpenFiles} && exec "$@"`, 'bash')
  const proc = Bun.spawn(command, {
    env: { ...process.env, ...testEnv(topic, { LOG_LEVEL: 'info', ...overrides, PORT: String(port) }) },
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  })
  onCleanup(async () => {
    proc.kill(9)
    await proc.exited
  })
  let stderr = ''
  const decoder = new TextDecoder()
  const reader = proc.stderr.getReader()
  void (async () => {
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      stderr += decoder.decode(read.value, { stream: true })
    }
  })()
  const url = `http://127.0.0.1:${port}`
  return { proc, url, get: (path: string) => fetch(`${url}${path}`), stderr: () => stderr }
}

/** Runs `command` to its end, in `cwd`, with `env` over this process's environment. */
export async function runCommand(
  command: string[],
  { cwd, env = {} }: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const proc = Bun.spawn(command, { cwd, env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  return { stdout, stderr, exitCode }
}

/** Waits until a service answers /ready with 200. */
export async function waitUntilReady(service: Reachable, timeoutMs = 60_000): Promise<void> {
  await waitFor(async () => (await service.get('/ready')).status === 200, {
    timeoutMs,
    what: `GET ${service.url}/ready to be 200`,
  })
}

export interface PrivateBroker {
  /** PLAINTEXT address. */
  bootstrap: string
  /** SSL address (client certificate required). */
  tlsBootstrap: string
  /** The CA and the client certificate and key, PEM files made by scripts/kafka.sh. */
  tls: { ca: string; cert: string; key: string }
  /** Runs `scripts/kafka.sh <command>` for this broker. */
  sh(command: string): Promise<{ code: number; out: string }>
}

/**
 * A broker of its own (own folder, ports from `basePort`), for tests that stop or reconfigure a
 * broker: the shared one on BOOTSTRAP_SERVERS is never touched. Stopped and removed after the test;
 * call `sh('start')` to start it.
 */
export function privateBroker(basePort: number): PrivateBroker {
  const home = mkdtempSync(join(tmpdir(), 'saldo-kafka-'))
  const env = {
    ...process.env,
    KAFKA_RUNNER: 'native',
    KAFKA_HOME_DIR: home,
    BOOTSTRAP_SERVERS: `localhost:${basePort}`,
    KAFKA_CONTROLLER_PORT: String(basePort + 1),
    KAFKA_SASL_PORT: String(basePort + 2),
    KAFKA_TLS_PORT: String(basePort + 3),
  }
  const sh = (command: string) => kafkaScript(env, command)
  onCleanup(async () => {
    await sh('stop')
    rmSync(home, { recursive: true, force: true })
  })
  const tls = join(home, 'tls')
  return {
    bootstrap: `localhost:${basePort}`,
    tlsBootstrap: `localhost:${basePort + 3}`,
    tls: { ca: join(tls, 'ca.pem'), cert: join(tls, 'client.pem'), key: join(tls, 'client.key') },
    sh,
  }
}

/**
 * Checks a metrics text with Prometheus' own parser and linter (`promtool check metrics`, from the
 * Debian package `prometheus`; scripts/test.sh installs it). Resolves with promtool's findings.
 */
export async function promtoolCheck(text: string): Promise<{ exitCode: number; output: string }> {
  if (!Bun.which('promtool')) {
    throw new Error('promtool is missing: apt-get install -y prometheus (scripts/test.sh does it)')
  }
  const run = Bun.spawn(['promtool', 'check', 'metrics'], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' })
  run.stdin.write(text)
  await run.stdin.end()
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(run.stdout).text(),
    new Response(run.stderr).text(),
    run.exited,
  ])
  return { exitCode, output: `${stdout}${stderr}`.trim() }
}

/** Every sample of a metrics text, by series (`name{labels}` exactly as rendered). */
export function metricValues(text: string): Record<string, number> {
  const values: Record<string, number> = {}
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const space = line.lastIndexOf(' ')
    values[line.slice(0, space)] = Number(line.slice(space + 1))
  }
  return values
}

export interface ServerSentEvent {
  id: string | undefined
  event: string
  data: string
}

/**
 * Reads a Server-Sent Events body in the background, as a browser would: `events` fills as events
 * arrive, `lastEventId` follows the id fields, `comments` keeps comment lines, and `ended` resolves
 * when the stream ends (with the error, if it broke). Cancelled after the test.
 */
export function readEvents(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader()
  const events: ServerSentEvent[] = []
  const comments: string[] = []
  let lastEventId: string | undefined
  let fields: { id?: string; event?: string; data: string[] } = { data: [] }
  const takeLine = (line: string) => {
    if (line === '') {
      if (fields.id !== undefined) lastEventId = fields.id
      if (fields.data.length > 0) {
        events.push({ id: fields.id, event: fields.event ?? 'message', data: fields.data.join('\n') })
      }
      fields = { data: [] }
    } else if (line.startsWith(':')) {
      comments.push(line.slice(1).trim())
    } else {
      const colon = line.indexOf(':')
      const value = line.slice(colon + 1).replace(/^ /, '')
      const name = line.slice(0, colon)
      if (name === 'id') fields.id = value
      else if (name === 'event') fields.event = value
      else if (name === 'data') fields.data.push(value)
    }
  }
  const ended = (async (): Promise<unknown> => {
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return undefined
        buffer += decoder.decode(value, { stream: true })
        const lines = buffer.split('\n')
        buffer = lines.pop() ?? ''
        lines.forEach(takeLine)
      }
    } catch (error) {
      return error
    }
  })()
  const cancel = () => reader.cancel().catch(() => {})
  onCleanup(cancel)
  return {
    events,
    comments,
    ended,
    cancel,
    get lastEventId() {
      return lastEventId
    },
    /** The parsed data of the events of one type. */
    data<T>(event: string): T[] {
      return events.filter((e) => e.event === event).map((e) => JSON.parse(e.data) as T)
    },
  }
}

/** The /ready body, whatever its status. */
export async function readiness(service: Reachable): Promise<ReadyAnswer> {
  return (await (await service.get('/ready')).json()) as ReadyAnswer
}

/**
 * The service serves exactly the latest value of every key of an independent read of the topic: no
 * key more, none less, none older.
 */
export async function expectServesTopic(
  service: Reachable,
  topic: string,
  client: Kafka = kafka,
): Promise<void> {
  const reference = await latestByKey(topic, client)
  expect((await readiness(service)).keys).toBe(reference.size)
  const ids = [...reference.keys()]
  for (let i = 0; i < ids.length; i += 1000) {
    const query = ids
      .slice(i, i + 1000)
      .map(encodeURIComponent)
      .join(',')
    const body = (await (await service.get(`/saldos?ids=${query}`)).json()) as {
      balances: Array<{ cliente_id: string }>
      missing: string[]
    }
    expect(body.missing).toEqual([])
    for (const balance of body.balances) {
      expect(balance).toEqual(JSON.parse(reference.get(balance.cliente_id) ?? 'null'))
    }
  }
}

export interface RawAnswer {
  status: number
  headers: string
  body: string
}

/** Sends bytes exactly as given (no URL normalisation, no header checks) and reads one answer. */
export function raw(port: number, request: string | Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const finish = () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const [head = '', ...rest] = text.split('\r\n\r\n')
      const body = rest.join('\r\n\r\n')
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? body.length)
      resolve({ status: Number(head.split(' ')[1]), headers: head, body: body.slice(0, length) })
    }
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer in 10 s')))
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      const text = Buffer.concat(chunks).toString('utf8')
      const end = text.indexOf('\r\n\r\n')
      const length = /content-length: *(\d+)/i.exec(text.slice(0, end))?.[1]
      if (
        end >= 0 &&
        (length === undefined ? /connection: close/i.test(text) : text.length >= end + 4 + Number(length))
      ) {
        socket.end()
        finish()
      }
    })
    socket.on('end', finish)
    socket.on('error', reject)
    socket.write(request)
  })
}

/**
 * Holds some partitions of `topic` away from a service, until `release`: a consumer of our own joins
 * the consumer group the service's materializer will use, so the group splits the partitions between
 * the two. The service replays what it was given and waits for the rest, deterministically. `held()`
 * says which partitions this consumer has now.
 */
export async function holdPartitions(topic: string, groupId: string) {
  const holder = kafka.consumer({ groupId })
  onCleanup(() => holder.disconnect())
  let held: number[] = []
  const joined = new Promise((resolve) =>
    holder.on(holder.events.GROUP_JOIN, ({ payload }) => {
      held = [...(payload.memberAssignment[topic] ?? [])].sort()
      resolve(held)
    }),
  )
  await holder.connect()
  await holder.subscribe({ topic, fromBeginning: true })
  await holder.run({ autoCommit: false, eachBatch: async () => {} })
  await joined
  return { held: () => held, release: () => holder.disconnect() }
}
