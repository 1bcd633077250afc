/** A saldo-api to send requests to. */
export interface Target {
  url: string
}

/** One PUT or DELETE of the load and how it ended; status 0: no answer (instance down, client timeout). */
export interface WriteOutcome {
  key: string
  kind: 'put' | 'delete'
  /** Unique per PUT of a run: tells which write a record of the log is. */
  saldo: number
  status: number
  ms: number
  /** performance.now() when the answer came. */
  at: number
  partition?: number
  offset?: number
  /** The error an answer other than 200 gave (its JSON `error`), to say why a write failed. */
  error?: string
}

export interface ReadOutcome {
  status: number
  ms: number
}

export interface LoadOptions {
  /** The instances to use now (one may be down for a while). */
  targets: () => readonly Target[]
  token: string
  keys: number
  /** The load stops once this settles. */
  until: Promise<unknown>
  writers: number
  readers: number
  /** A request not answered after this long is given up (status 0). */
  clientTimeoutMs: number
}

/**
 * Writers PUT (and now and then DELETE) random keys through the instances in turn, readers GET
 * random keys, until `until` settles; resolves with every outcome.
 */
export async function runLoad(
  options: LoadOptions,
): Promise<{ writes: WriteOutcome[]; reads: ReadOutcome[] }> {
  const { targets, token, keys, clientTimeoutMs } = options
  let running = true
  void options.until.finally(() => {
    running = false
  })
  let written = 0
  const writes: WriteOutcome[] = []
  const reads: ReadOutcome[] = []
  let next = 0
  const request = async (path: string, init: RequestInit = {}) => {
    const all = targets()
    const target = all[next++ % all.length]
    const started = performance.now()
    try {
      if (!target) throw new Error('no instance to ask')
      const response = await fetch(`${target.url}${path}`, {
        ...init,
        signal: AbortSignal.timeout(clientTimeoutMs),
      })
      return { status: response.status, body: await response.text(), ms: performance.now() - started }
    } catch {
      return { status: 0, body: '', ms: performance.now() - started }
    }
  }
  const key = () => `k${Math.floor(Math.random() * keys)}`
  const writer = async () => {
    while (running) {
      const id = key()
      const saldo = ++written
      const kind = Math.random() < 0.15 ? 'delete' : 'put'
      const answer = await request(`/saldo/${id}`, {
        method: kind === 'put' ? 'PUT' : 'DELETE',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(kind === 'put' ? { body: JSON.stringify({ saldo, timestamp: '2026-12-02T07:00:00' }) } : {}),
      })
      const outcome: WriteOutcome = {
        key: id,
        kind,
        saldo,
        status: answer.status,
        ms: answer.ms,
        at: performance.now(),
      }
      if (answer.status === 200) {
        const [partition, end] = String(JSON.parse(answer.body).position).split(':').map(Number)
        Object.assign(outcome, { partition, offset: (end ?? 0) - 1 })
      } else if (answer.status !== 0) {
        outcome.error = errorOf(answer.body)
      }
      writes.push(outcome)
    }
  }
  const reader = async () => {
    while (running) {
      const answer = await request(`/saldo/${key()}`, { headers: { authorization: `Bearer ${token}` } })
      reads.push({ status: answer.status, ms: answer.ms })
    }
  }
  await Promise.all([
    ...Array.from({ length: options.writers }, writer),
    ...Array.from({ length: options.readers }, reader),
  ])
  return { writes, reads }
}

/** The `error` of a JSON error answer, or the start of whatever else came. */
function errorOf(body: string): string {
  try {
    const error = (JSON.parse(body) as { error?: unknown }).error
    if (typeof error === 'string') return error
  } catch {
    // Not JSON (a proxy's page, a cut answer): its start says enough.
  }
  return body.slice(0, 200)
}

export interface LogRecord {
  partition: number
  offset: number
  key: string | null
  value: string | null
}

export interface WriteAudit {
  acknowledged: number
  /** Answered 200, but nothing (or not that record) at its offset. */
  lost: number
  /** The same PUT at two offsets. */
  appliedTwice: number
  /** Answered 200 and another record at its offset, or a record with a PUT's value under another key. */
  wrong: number
  /** Answered 503/504 or not at all. */
  unconfirmed: number
  /** Of those, how many are in the log anyway (allowed: absent or present, never half-done). */
  unconfirmedLanded: number
  /** The first few problems, each a sentence, for the failure message. */
  problems: string[]
}

/** Checks every write of a load against an independent read of the whole log. */
export function auditWrites(writes: readonly WriteOutcome[], log: readonly LogRecord[]): WriteAudit {
  const at = new Map(log.map((r) => [`${r.partition}:${r.offset}`, r]))
  const bySaldo = new Map<number, LogRecord[]>()
  for (const record of log) {
    if (record.value === null) continue
    const saldo = Number(JSON.parse(record.value).saldo)
    bySaldo.set(saldo, [...(bySaldo.get(saldo) ?? []), record])
  }
  const audit: WriteAudit = {
    acknowledged: 0,
    lost: 0,
    appliedTwice: 0,
    wrong: 0,
    unconfirmed: 0,
    unconfirmedLanded: 0,
    problems: [],
  }
  const problem = (count: 'lost' | 'appliedTwice' | 'wrong', write: WriteOutcome, detail: unknown) => {
    audit[count]++
    if (audit.problems.length < 10)
      audit.problems.push(`${count}: ${JSON.stringify(write)} ${JSON.stringify(detail)}`)
  }
  for (const write of writes) {
    if (write.status === 404) continue // a DELETE of a key that was not there: nothing written
    const copies = write.kind === 'put' ? (bySaldo.get(write.saldo) ?? []) : []
    if (copies.length > 1) problem('appliedTwice', write, copies)
    if (copies.some((r) => r.key !== write.key)) problem('wrong', write, copies)
    if (write.status !== 200) {
      audit.unconfirmed++
      if (copies.length > 0) audit.unconfirmedLanded++
      continue
    }
    audit.acknowledged++
    const record = at.get(`${write.partition}:${write.offset}`)
    if (!record) problem('lost', write, 'nothing at its offset')
    else if (record.key !== write.key) problem('wrong', write, record)
    else if (write.kind === 'delete' ? record.value !== null : !copies.includes(record))
      problem('wrong', write, record)
  }
  return audit
}

/**
 * The longest time between two successful writes (to `partition`, or to any), or from `from` to the
 * first, or from the last to `to`, in ms.
 */
export function longestWriteGapMs(
  writes: readonly WriteOutcome[],
  from: number,
  to: number,
  partition?: number,
): number {
  const ok = writes.filter((w) => w.status === 200 && (partition === undefined || w.partition === partition))
  const times = [from, ...ok.map((w) => w.at), to].sort((a, b) => a - b)
  return Math.max(...times.slice(1).map((t, i) => t - (times[i] ?? t)))
}
