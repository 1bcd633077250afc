/** A saldo-api to read through. */
export interface ReadTarget {
  url: string
}

const READ_TIMEOUT_MS = 10_000

/** What one GET /saldo/:id answered, judged against the value known for its key. */
export const ANSWER_KINDS = ['right', 'wrong', 'notFound', 'unavailable', 'other'] as const
export type AnswerKind = (typeof ANSWER_KINDS)[number]

/** One answer: its kind, the key's partition, and when it was sent and answered (performance.now()). */
export interface CheckedRead {
  kind: AnswerKind
  partition: number
  sentAt: number
  at: number
}

export interface CheckedReadsOptions {
  /** The instances to read through now; each request picks one. */
  through: () => readonly ReadTarget[]
  /** Existing keys: a 404 for one of them is counted apart. */
  ids: readonly string[]
  /** The saldo every answer for `id` must carry. */
  saldoOf: (id: string) => number
  partitionOf: (id: string) => number
  headers: Record<string, string>
  /** Concurrent clients, each sending its next GET once the last one is answered. */
  clients: number
  /** A random integer in 0..n-1 (the tests pass their seeded one). */
  randomInt?: (n: number) => number
}

/** What `stop` resolves with: every answer, in the order they came. */
export interface CheckedReadLog {
  reads: CheckedRead[]
  counts: Record<AnswerKind, number> & { byStandby: number }
}

function kindOf(status: number, retryAfter: string | null, saldo: unknown, expected: number): AnswerKind {
  if (status === 200) return saldo === expected ? 'right' : 'wrong'
  if (status === 404) return 'notFound'
  // A 503 must say when to come back: one without Retry-After is a fault of its own.
  if (status === 503 && retryAfter !== null) return 'unavailable'
  return 'other'
}

/**
 * GETs random keys of `ids` through `through()` in a closed loop until stopped, judging each answer:
 * 200 with the known saldo, 200 with another, 404 for a key that exists, 503 with Retry-After, other
 * (no answer within READ_TIMEOUT_MS counts as other). The counts are live, for a caller waiting for
 * the load to be under way.
 */
export function checkedReads(options: CheckedReadsOptions) {
  const pick = options.randomInt ?? ((n: number) => Math.floor(Math.random() * n))
  const counts: CheckedReadLog['counts'] = {
    right: 0,
    wrong: 0,
    notFound: 0,
    unavailable: 0,
    other: 0,
    byStandby: 0,
  }
  const reads: CheckedRead[] = []
  let running = true
  const client = async () => {
    while (running) {
      const targets = options.through()
      const target = targets[pick(targets.length)]
      const id = options.ids[pick(options.ids.length)] as string
      const sentAt = performance.now()
      // Bounded: a survivor that stops answering is a finding to count, not a bench that hangs.
      const signal = AbortSignal.timeout(READ_TIMEOUT_MS)
      const answer = await fetch(`${target?.url}/saldo/${id}`, { headers: options.headers, signal }).then(
        async (res) => ({ res, body: (await res.json().catch(() => ({}))) as { saldo?: unknown } }),
        () => undefined,
      )
      const kind = answer
        ? kindOf(
            answer.res.status,
            answer.res.headers.get('retry-after'),
            answer.body.saldo,
            options.saldoOf(id),
          )
        : 'other'
      counts[kind]++
      if (kind === 'right' && answer?.res.headers.get('x-saldo-served-as') === 'standby') counts.byStandby++
      reads.push({ kind, partition: options.partitionOf(id), sentAt, at: performance.now() })
    }
  }
  const loop = Promise.all(Array.from({ length: options.clients }, client))
  return {
    counts,
    async stop(): Promise<CheckedReadLog> {
      running = false
      await loop
      return { reads, counts: { ...counts } }
    },
  }
}

/**
 * When, in milliseconds after `from`, the first and the last answer that was not a right 200 came
 * (both 0 when none did): the last is the failover gap; the first tells a wait from a move.
 */
export function missesAfter(
  reads: readonly CheckedRead[],
  from: number,
): { firstMs: number; lastMs: number } {
  const misses = reads.filter((r) => r.kind !== 'right' && r.at >= from)
  const first = misses[0]
  const last = misses.at(-1)
  return first && last ? { firstMs: first.at - from, lastMs: last.at - from } : { firstMs: 0, lastMs: 0 }
}

/**
 * The longest run of 503s on `partition`: from the sending of the first 503 of a run of them (no right
 * answer on the partition in between) to the arrival of its last; 0 when the partition had no 503.
 */
export function longestUnavailableRun(reads: readonly CheckedRead[], partition: number): number {
  let longest = 0
  let runStart: number | undefined
  // `reads` are in the order they were answered.
  for (const read of reads.filter((r) => r.partition === partition)) {
    if (read.kind === 'unavailable') {
      runStart = Math.min(runStart ?? read.sentAt, read.sentAt)
      longest = Math.max(longest, read.at - runStart)
    } else if (read.kind === 'right') runStart = undefined
  }
  return longest
}
