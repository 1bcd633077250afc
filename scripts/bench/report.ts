import { type Static, Type } from '@sinclair/typebox'

// The bench's output: report.json follows this schema, and report.md is rendered from it. The CI
// check validates a quick run's JSON against it: every figure present, whatever its value.

export const Spread = Type.Object({
  min: Type.Number(),
  median: Type.Number(),
  max: Type.Number(),
  runs: Type.Array(Type.Number(), { minItems: 1 }),
})
export type Spread = Static<typeof Spread>

const Throughput = Type.Object({
  seconds: Spread,
  recordsPerSecond: Spread,
  megabytesPerSecond: Spread,
})
export type Throughput = Static<typeof Throughput>

export const ReplayVariant = Type.Composite([
  Type.Object({
    name: Type.String({ description: 'which saldo-api, and STATE_DIR' }),
    vsPerfTest: Spread,
  }),
  Throughput,
])
export type ReplayVariant = Static<typeof ReplayVariant>

export const ReplayTopic = Type.Object({
  name: Type.String(),
  partitions: Type.Integer({ minimum: 1 }),
  records: Type.Integer({ minimum: 1 }),
  keys: Type.Integer({ minimum: 1 }),
  megabytes: Type.Number({ description: 'keys and values, MiB, as ConsumerPerformance counts them' }),
  perfTest: Throughput,
  saldo: Type.Array(ReplayVariant, { minItems: 1 }),
})
export type ReplayTopic = Static<typeof ReplayTopic>

export const Load = Type.Object({
  requestsPerSecond: Spread,
  p50Ms: Spread,
  p99Ms: Spread,
  errors: Type.Integer({ description: 'connection errors and non-2xx answers, all runs' }),
})
export type Load = Static<typeof Load>

export const Http = Type.Object({
  keys: Type.Integer(),
  seconds: Type.Number(),
  connections: Type.Integer(),
  saturation: Type.Object({ saldo: Load, bare: Load, vsBare: Spread }),
  half: Type.Object({ rate: Type.Integer(), saldo: Load, bare: Load }),
})
export type Http = Static<typeof Http>

export const Freshness = Type.Object({
  rate: Type.Integer(),
  seconds: Type.Number(),
  observed: Spread,
  late: Type.Integer({ description: 'updates not queryable within MIN_POSITION_WAIT_MS, all runs' }),
  p50Ms: Spread,
  p99Ms: Spread,
  maxMs: Spread,
  ackP50Ms: Spread,
  ackP99Ms: Spread,
})
export type Freshness = Static<typeof Freshness>

/** RSS of a process over a load: the highest until ready, once settled after it, and their ratio. */
export const RssFigure = Type.Object({
  peakRssMB: Spread,
  settledRssMB: Spread,
  peakOverSettled: Spread,
})
export type RssFigure = Static<typeof RssFigure>

export const TopicMemory = Type.Composite([
  Type.Object({
    topic: Type.String(),
    records: Type.Integer(),
    bytesPerKey: Spread,
  }),
  RssFigure,
])
export type TopicMemory = Static<typeof TopicMemory>

export const Failover = Type.Object({
  seconds: Type.Number(),
  longestWriteGapMs: Spread,
  killedPartitionWriteGapMs: Spread,
  readP99Ms: Spread,
  writesAcknowledged: Spread,
  writesFailed: Spread,
})
export type Failover = Static<typeof Failover>

export const Movements = Type.Object({
  partitions: Type.Integer(),
  keys: Type.Integer({ description: 'ids the load spreads over, all on partitions the first instance owns' }),
  clients: Type.Integer({
    description: 'concurrent clients, each waiting for its answer before the next request',
  }),
  seconds: Type.Number(),
  owner: Load,
  forwarded: Load,
  forwardedVsOwner: Spread,
  forwardedP99VsOwner: Spread,
  putOwner: Load,
})
export type Movements = Static<typeof Movements>

/** One layout of the partitioned phase: N instances started together over the same keys. */
export const PartitionedLayout = Type.Object({
  instances: Type.Integer(),
  keysHeld: Type.Array(Type.Integer(), { description: 'per instance: owned plus standby partitions' }),
  settledRssMB: Type.Array(Type.Number(), { description: 'per instance' }),
})
export type PartitionedLayout = Static<typeof PartitionedLayout>

/** One partition in one failover run: whether the killed instance owned it, and its 503s. */
export const FailoverPartition = Type.Object({
  partition: Type.Integer(),
  ofKilled: Type.Boolean({ description: 'the killed instance owned it' }),
  unavailable: Type.Integer({ description: '503 answers for its keys' }),
  longestUnavailableRunMs: Type.Number({
    description: 'its longest run of 503s, first sent to last answered',
  }),
})
export type FailoverPartition = Static<typeof FailoverPartition>

/** Answers of one kind per run, out of all the reads of the run (before and after the kill). */
const AnswerCounts = Type.Object({
  right: Spread,
  wrong: Spread,
  notFound: Spread,
  unavailable: Spread,
  other: Spread,
  byStandby: Spread,
})

/** kill -9 of one of 3 partitioned instances under a read load through a survivor (issue 17). */
export const PartitionedFailover = Type.Object({
  instances: Type.Integer(),
  clients: Type.Integer({ description: 'closed-loop readers, all through the same surviving instance' }),
  ids: Type.Integer({ description: 'ids read, spread over every partition, each with its known saldo' }),
  tailMs: Type.Integer({ description: 'how long the load went on after the survivors had settled' }),
  sessionTimeoutMs: Type.Integer({
    description: 'OWNERSHIP_SESSION_TIMEOUT_MS: when the group notices the kill',
  }),
  answers: AnswerCounts,
  firstMissMs: Spread,
  gapMs: Spread,
  longestUnavailableRunMs: Spread,
  longestUnavailableRunAnyMs: Spread,
  newOwnerMs: Spread,
  rebalancedMs: Spread,
  partitions: Type.Array(Type.Array(FailoverPartition), { description: 'per run, every partition' }),
})
export type PartitionedFailover = Static<typeof PartitionedFailover>

export const Partitioned = Type.Object({
  keys: Type.Integer(),
  partitions: Type.Integer(),
  standbyReplicas: Type.Integer(),
  emptyRssMB: Type.Number({
    description: 'settled RSS of an instance on an empty topic (the full run: the startup figure)',
  }),
  layouts: Type.Array(PartitionedLayout, { minItems: 3 }),
  get: Type.Object({
    instances: Type.Integer(),
    seconds: Type.Number(),
    connections: Type.Integer(),
    local: Load,
    forwarded: Load,
    forwardedVsLocal: Spread,
    forwardedP99VsLocal: Spread,
  }),
  failover: PartitionedFailover,
})
export type Partitioned = Static<typeof Partitioned>

export const Memory = Type.Object({
  keys: Type.Integer(),
  emptyRssMB: Spread,
  topics: Type.Array(TopicMemory, {
    minItems: 1,
    description: 'the same keys, once per record each, then dirty',
  }),
})
export type Memory = Static<typeof Memory>

export const Restart = Type.Composite([
  Type.Object({
    topic: Type.String(),
    fullReplaySeconds: Spread,
    checkpointSeconds: Spread,
    speedup: Spread,
    verdict: Type.String(),
  }),
  RssFigure,
])
export type Restart = Static<typeof Restart>

export const Target = Type.Object({
  figure: Type.String(),
  target: Type.String(),
  measured: Type.String(),
  met: Type.Union([Type.Boolean(), Type.Null()], { description: 'null: not measurable yet' }),
})
export type Target = Static<typeof Target>

export const Header = Type.Object({
  date: Type.String(),
  mode: Type.Union([Type.Literal('full'), Type.Literal('quick')]),
  runs: Type.Integer(),
  minutes: Type.Number(),
  cpuModel: Type.String(),
  cores: Type.Integer(),
  memoryGB: Type.Number(),
  os: Type.String(),
  bun: Type.String(),
  kafka: Type.String(),
  commit: Type.String(),
  loadAverage: Type.Object({ start: Type.Array(Type.Number()), end: Type.Array(Type.Number()) }),
})
export type Header = Static<typeof Header>

export const Report = Type.Object({
  header: Header,
  replay: Type.Array(ReplayTopic, { minItems: 1 }),
  restart: Restart,
  memory: Memory,
  http: Http,
  freshness: Freshness,
  startup: Type.Object({ msToHealth: Spread }),
  failover: Failover,
  movements: Movements,
  partitioned: Partitioned,
  targets: Type.Array(Target),
  notes: Type.Array(Type.String()),
})
export type Report = Static<typeof Report>

/** `bun run bench --only movements|partitioned`: that phase alone, with its targets. */
export const PhaseReport = Type.Object({
  header: Header,
  movements: Type.Optional(Movements),
  partitioned: Type.Optional(Partitioned),
  targets: Type.Array(Target),
})
export type PhaseReport = Static<typeof PhaseReport>

/** One server of `bun run bench --only http`: its loads, and its ratios to the bare server's. */
export const ServerHttp = Type.Object({
  name: Type.String(),
  saturation: Load,
  half: Load,
  vsBare: Spread,
  p99VsBare: Type.Number({ description: "p99 at the fixed rate ÷ the bare server's p99 (medians)" }),
})
export type ServerHttp = Static<typeof ServerHttp>

/** `bun run bench --only http`: GET /saldo/:id alone, every server measured side by side. */
export const HttpReport = Type.Object({
  header: Header,
  keys: Type.Integer(),
  seconds: Type.Number(),
  connections: Type.Integer(),
  rate: Type.Integer({ description: "the fixed rate: half the first server's median saturation" }),
  servers: Type.Array(ServerHttp, { minItems: 2, description: 'the bare server last' }),
})
export type HttpReport = Static<typeof HttpReport>

const fixed = (value: number, digits: number) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

/** `median (min–max)`, the way every figure of the Markdown table reads. */
export function show(s: Spread, digits = 0, unit = ''): string {
  if (s.runs.length === 1) return `${fixed(s.median, digits)}${unit}`
  return `${fixed(s.median, digits)}${unit} (${fixed(s.min, digits)}–${fixed(s.max, digits)})`
}

const table = (head: string[], rows: string[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => ' --- ').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n')

const RSS_HEAD = ['peak RSS MiB', 'settled RSS MiB', 'peak / settled']
const rssRow = (f: RssFigure) => [show(f.peakRssMB), show(f.settledRssMB), `${show(f.peakOverSettled, 2)} x`]

function loadRow(name: string, load: Load): string[] {
  return [name, show(load.requestsPerSecond), show(load.p50Ms, 2), show(load.p99Ms, 2), String(load.errors)]
}

const headerLine = (h: Header) =>
  `${h.date} · ${h.cpuModel}, ${h.cores} cores, ${h.memoryGB} GB · ${h.os} · Bun ${h.bun} · Kafka ${h.kafka} · commit ${h.commit}`

/** The Markdown of `--only http`: every server at saturation, then at the fixed rate. */
export function renderHttpMarkdown(report: HttpReport): string {
  const rows = report.servers.flatMap((s) => [
    [
      s.name,
      'saturation',
      show(s.saturation.requestsPerSecond),
      show(s.saturation.p50Ms, 2),
      show(s.saturation.p99Ms, 2),
      `${show(s.vsBare, 2)} x`,
      String(s.saturation.errors),
    ],
    [
      '',
      `fixed ${report.rate.toLocaleString('en-US')} req/s`,
      show(s.half.requestsPerSecond),
      show(s.half.p50Ms, 2),
      show(s.half.p99Ms, 2),
      `p99 ${fixed(s.p99VsBare, 2)} x`,
      String(s.half.errors),
    ],
  ])
  return [
    `# saldo HTTP benchmark (${report.header.mode}): GET /saldo/:id over ${report.keys.toLocaleString('en-US')} random keys`,
    '',
    headerLine(report.header),
    '',
    `wrk, ${report.connections} connections, ${report.seconds} s a load, ${report.header.runs} interleaved run(s); every request carries the bearer token; ÷ bare is run by run.`,
    '',
    table(['server', 'load', 'req/s', 'p50 ms', 'p99 ms', '÷ bare', 'errors'], rows),
    '',
  ].join('\n')
}

function targetsSection(targets: readonly Target[]): string[] {
  return [
    '## Targets',
    '',
    table(
      ['figure', 'target', 'measured (median)', 'met'],
      targets.map((t) => [t.figure, t.target, t.measured, t.met === null ? 'n/a' : t.met ? 'yes' : 'no']),
    ),
    '',
  ]
}

function movementsSection(m: Movements): string[] {
  return [
    `## Movements: POST /saldo/:id/movimentos, 2 instances, ${m.partitions} partitions (${m.clients} clients, ${m.seconds} s)`,
    '',
    table(
      ['through', 'server', 'req/s', 'p50 ms', 'p99 ms', 'errors'],
      [
        ['movements', ...loadRow('the owner', m.owner)],
        ['', ...loadRow('a non-owner (forwarded)', m.forwarded)],
        [
          '',
          'forwarded ÷ owner',
          `${show(m.forwardedVsOwner, 2)} x`,
          '',
          `${show(m.forwardedP99VsOwner, 2)} x`,
          '',
        ],
        ['PUT /saldo/:id', ...loadRow('the owner', m.putOwner)],
      ],
    ),
    '',
    `Every request a fresh Idempotency-Key, on ${m.keys.toLocaleString('en-US')} ids of the partitions the first instance owns.`,
    '',
  ]
}

function partitionedSection(p: Partitioned): string[] {
  const mb = (values: readonly number[]) => values.map((v) => fixed(v, 0)).join(' / ')
  const keys = (values: readonly number[]) => values.map((v) => v.toLocaleString('en-US')).join(' / ')
  const g = p.get
  return [
    `## Partitioned: ${p.keys.toLocaleString('en-US')} keys, ${p.partitions} partitions, MODE=partitioned, STANDBY_REPLICAS=${p.standbyReplicas} (RSS empty ${fixed(p.emptyRssMB, 0)} MiB)`,
    '',
    table(
      ['instances', 'keys held per instance', 'share of the keys', 'settled RSS MiB per instance'],
      p.layouts.map((l) => [
        String(l.instances),
        keys(l.keysHeld),
        l.keysHeld.map((k) => fixed(k / p.keys, 2)).join(' / '),
        mb(l.settledRssMB),
      ]),
    ),
    '',
    table(
      ['GET /saldo/:id', 'server', 'req/s', 'p50 ms', 'p99 ms', 'errors'],
      [
        [`${g.instances} instances`, ...loadRow('a local key', g.local)],
        ['', ...loadRow('a key of another instance (forwarded)', g.forwarded)],
        [
          '',
          'forwarded ÷ local',
          `${show(g.forwardedVsLocal, 2)} x`,
          '',
          `${show(g.forwardedP99VsLocal, 2)} x`,
          '',
        ],
      ],
    ),
    '',
    `wrk, ${g.connections} connections, ${g.seconds} s a load, one id each, sent to the same instance.`,
    '',
    ...partitionedFailoverSection(p.failover),
  ]
}

function partitionedFailoverSection(f: PartitionedFailover): string[] {
  const a = f.answers
  const runs = f.partitions.map((run) =>
    run
      .filter((p) => p.unavailable > 0 || p.ofKilled)
      .map(
        (p) =>
          `${p.partition}${p.ofKilled ? ' (killed)' : ''}: ${p.unavailable} × 503, longest ${fixed(p.longestUnavailableRunMs, 0)} ms`,
      )
      .join('; '),
  )
  return [
    `### Failover: kill -9 of one of ${f.instances} instances, ${f.clients} clients reading ${f.ids.toLocaleString('en-US')} known ids of every partition through a survivor`,
    '',
    table(
      [
        '200 right',
        '200 wrong',
        '404 (key exists)',
        '503 + Retry-After',
        'other',
        'of the right 200s, by a standby',
      ],
      [
        [
          show(a.right),
          show(a.wrong),
          show(a.notFound),
          show(a.unavailable),
          show(a.other),
          show(a.byStandby),
        ],
      ],
    ),
    '',
    table(
      [
        'after the kill, ms: first non-200',
        'last non-200 (the gap)',
        "longest 503 run, killed instance's partitions",
        'any partition',
        'new owners in /ready',
        'survivors settled',
      ],
      [
        [
          show(f.firstMissMs),
          show(f.gapMs),
          show(f.longestUnavailableRunMs),
          show(f.longestUnavailableRunAnyMs),
          show(f.newOwnerMs),
          show(f.rebalancedMs),
        ],
      ],
    ),
    '',
    `OWNERSHIP_SESSION_TIMEOUT_MS=${f.sessionTimeoutMs}: the group notices the kill after it, and moves the partitions then; until then a standby answers. The load ran until ${fixed(f.tailMs / 1000, 0)} s after the two survivors owned every partition and held its keys. Partitions with 503s, run by run: ${runs.join(' | ')}.`,
    '',
  ]
}

/** The Markdown of `--only movements|partitioned`: that phase's tables, then its targets. */
export function renderPhaseMarkdown(report: PhaseReport): string {
  return [
    `# saldo benchmark (${report.header.mode}), one phase`,
    '',
    headerLine(report.header),
    '',
    ...(report.movements ? movementsSection(report.movements) : []),
    ...(report.partitioned ? partitionedSection(report.partitioned) : []),
    ...targetsSection(report.targets),
  ].join('\n')
}

/** The Markdown report: the header, then one table per figure, then the targets. */
export function renderMarkdown(report: Report): string {
  const { header: h, http, freshness: f, memory: m, restart: r } = report
  const replayRows = report.replay.flatMap((topic) => [
    [
      `${topic.name}, ${topic.partitions} partition${topic.partitions > 1 ? 's' : ''}`,
      'Kafka ConsumerPerformance',
      show(topic.perfTest.seconds, 1),
      show(topic.perfTest.recordsPerSecond),
      show(topic.perfTest.megabytesPerSecond, 1),
      '1 (the limit)',
    ],
    ...topic.saldo.map((v) => [
      '',
      v.name,
      show(v.seconds, 1),
      show(v.recordsPerSecond),
      show(v.megabytesPerSecond, 1),
      `${show(v.vsPerfTest, 2)} x`,
    ]),
  ])
  return [
    `# saldo benchmark (${h.mode})`,
    '',
    headerLine(h),
    '',
    `Every figure: median (min–max) over ${h.runs} run${h.runs > 1 ? 's' : ''}, measured side by side in this one run ` +
      `(${fixed(h.minutes, 1)} min). Load average at start ${h.loadAverage.start.map((x) => x.toFixed(2)).join(' ')}, ` +
      `at end ${h.loadAverage.end.map((x) => x.toFixed(2)).join(' ')}: other work shared the machine, so compare ratios rather than absolute numbers.`,
    '',
    '## Replay: process start to ready',
    '',
    table(['topic', 'reader', 'seconds', 'records/s', 'MiB/s', 'vs perf test'], replayRows),
    '',
    `Topics: ${report.replay.map((t) => `${t.name} ${t.partitions}p = ${t.records.toLocaleString('en-US')} records over ${t.keys.toLocaleString('en-US')} keys, ${fixed(t.megabytes, 1)} MiB`).join('; ')}.`,
    '',
    '## Restart from a checkpoint',
    '',
    table(
      ['topic', 'full replay s', 'from checkpoint s', 'speedup', 'verdict', ...RSS_HEAD],
      [
        [
          r.topic,
          show(r.fullReplaySeconds, 1),
          show(r.checkpointSeconds, 1),
          `${show(r.speedup, 2)} x`,
          r.verdict,
          ...rssRow(r),
        ],
      ],
    ),
    '',
    `## Memory: ${m.keys.toLocaleString('en-US')} keys, STATE_DIR=memory (RSS empty ${show(m.emptyRssMB)} MiB)`,
    '',
    table(
      ['topic', 'records', 'bytes per key', ...RSS_HEAD],
      m.topics.map((t) => [t.topic, t.records.toLocaleString('en-US'), show(t.bytesPerKey), ...rssRow(t)]),
    ),
    '',
    `## HTTP: GET /saldo/:id over ${http.keys.toLocaleString('en-US')} random keys (wrk, ${http.connections} connections, ${http.seconds} s)`,
    '',
    table(
      ['load', 'server', 'req/s', 'p50 ms', 'p99 ms', 'errors'],
      [
        ['saturation', ...loadRow('saldo-api', http.saturation.saldo)],
        ['', ...loadRow('bare Bun.serve', http.saturation.bare)],
        ['', 'saldo / bare', `${show(http.saturation.vsBare, 2)} x`, '', '', ''],
        [`fixed ${http.half.rate.toLocaleString('en-US')} req/s`, ...loadRow('saldo-api', http.half.saldo)],
        ['', ...loadRow('bare Bun.serve', http.half.bare)],
      ],
    ),
    '',
    `## Freshness: produce → queryable at ${f.rate.toLocaleString('en-US')} updates/s for ${f.seconds} s`,
    '',
    table(
      ['updates observed', 'late', 'p50 ms', 'p99 ms', 'max ms', 'of which producer ack: p50 ms', 'p99 ms'],
      [
        [
          show(f.observed),
          String(f.late),
          show(f.p50Ms, 1),
          show(f.p99Ms, 1),
          show(f.maxMs, 1),
          show(f.ackP50Ms, 1),
          show(f.ackP99Ms, 1),
        ],
      ],
    ),
    '',
    '## Startup: compiled ./saldo-api, exec to /health 200',
    '',
    table(['ms'], [[show(report.startup.msToHealth)]]),
    '',
    `## Failover: a partition leader SIGKILLed under load on a 3-node cluster (${report.failover.seconds} s)`,
    '',
    table(
      [
        'longest gap in successful writes ms',
        'to the killed partition ms',
        'read p99 ms',
        'writes acknowledged',
        'writes failed (503)',
      ],
      [
        [
          show(report.failover.longestWriteGapMs),
          show(report.failover.killedPartitionWriteGapMs),
          show(report.failover.readP99Ms, 1),
          show(report.failover.writesAcknowledged),
          show(report.failover.writesFailed),
        ],
      ],
    ),
    '',
    ...movementsSection(report.movements),
    ...partitionedSection(report.partitioned),
    ...targetsSection(report.targets),
    '## Notes',
    '',
    ...report.notes.map((n) => `- ${n}`),
    '',
  ].join('\n')
}
