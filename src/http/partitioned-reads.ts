import { murmur2Partition } from '../kafka/partitioning.ts'
import type { ReplayProgress } from '../kafka/replay-progress.ts'
import type { OwnershipSource, PartitionOwner } from '../ownership/models.ts'
import { formatPosition, parsePosition } from '../store/position.ts'
import type { PositionWatch } from '../store/position-watch.ts'
import type { BalanceStore } from '../store/store.ts'
import { ApiError } from './errors.ts'
import { FORWARDED_BY_HEADER, OwnerAnswer } from './forwarding.ts'
import type { BalancesBody } from './models.ts'
import { readBalances } from './read-balances.ts'
import { MIN_POSITION_HEADER, POSITION_HEADER, type StateAccess } from './state-access.ts'

/** Names the instance whose state an answer comes from (MODE=partitioned). */
export const SERVED_BY_HEADER = 'x-saldo-served-by'
/** How it held the key's partition: `owner`, or `standby` (a copy, caught up). */
export const SERVED_AS_HEADER = 'x-saldo-served-as'

/** The owner's headers a forwarded read answers with; the others (length, encoding) are this answer's own. */
const ANSWERED = ['content-type', 'etag', 'retry-after', POSITION_HEADER, SERVED_BY_HEADER, SERVED_AS_HEADER]
const PASSED_ON = ['authorization', MIN_POSITION_HEADER]

export interface PartitionedReadsDeps {
  ownership: Pick<OwnershipSource, 'url' | 'ownerOf' | 'holdersOf'>
  progress: Pick<ReplayProgress, 'caughtUp'>
  store: Pick<BalanceStore, 'origin' | 'writeError' | 'get'>
  access: Pick<StateAccess, 'reach'>
  watch: Pick<PositionWatch, 'text'>
  /** How long the owner may take to answer before a standby is asked. */
  timeoutMs: number
  retryAfterSeconds: number
  /** Injected by unit tests (instances under app.handle); the global fetch otherwise. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>
}

const encoder = new TextEncoder()
type HeaderSet = Record<string, unknown>

/**
 * MODE=partitioned reads, as Kafka Streams' interactive queries: a key of a partition this instance
 * holds caught up (owned, or a standby) is answered here; any other is asked of its owner, one hop,
 * with the caller's token and min_position; when the owner does not answer in time (it may be dead,
 * which the group notices only after its session timeout), of the partition's standbys. Every answer
 * names who answered (X-Saldo-Served-By). A partition nobody can answer for now (moving, or being
 * restored) is a 503 with Retry-After that names it, never a 404 for a key that may exist.
 */
export function partitionedReads({
  ownership,
  progress,
  store,
  access,
  watch,
  timeoutMs,
  retryAfterSeconds,
  fetch: send = fetch,
}: PartitionedReadsDeps) {
  const retryAfter = { 'retry-after': String(retryAfterSeconds) }
  const partitionOf = (id: string) => {
    const partitions = store.origin?.partitions
    if (partitions === undefined)
      throw new ApiError('not_ready', 'the topic is not read yet; retry after the Retry-After seconds', {
        headers: retryAfter,
      })
    return murmur2Partition(encoder.encode(id), partitions)
  }
  /** Answered here: caught up, and the store taking batches (else it falls behind the topic). */
  const local = (partition: number) => progress.caughtUp(partition) && store.writeError === undefined
  const moving = (partitions: readonly number[], why: string) =>
    new ApiError(
      'ownership_moving',
      `partition ${partitions.join(', ')} cannot be read now: ${why}; retry after the Retry-After seconds`,
      { headers: retryAfter },
    )
  const servedHere = (headers: HeaderSet, partitions: readonly number[]) => {
    headers[SERVED_BY_HEADER] = ownership.url
    headers[SERVED_AS_HEADER] = partitions.every((p) => ownership.ownerOf(p)?.self) ? 'owner' : 'standby'
  }
  /**
   * Where a key of `partition` is asked, in order: its owner, then its standbys (never this instance);
   * while the instances rebalance, those of the last assignment, which hold their copies meanwhile.
   */
  const targets = (partition: number): PartitionOwner[] =>
    ownership.holdersOf(partition).filter((t) => !t.self)

  /** One hop to `url`; undefined when it cannot answer (refused, too slow, or a 503 of its own). */
  const ask = async (url: string, request: Request, path: string, body?: string) => {
    const headers: Record<string, string> = { [FORWARDED_BY_HEADER]: ownership.url }
    for (const name of PASSED_ON) {
      const value = request.headers.get(name)
      if (value !== null) headers[name] = value
    }
    if (body !== undefined) headers['content-type'] = 'application/json'
    try {
      const answer = await send(`${url}${path}${new URL(request.url).search}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      })
      if (answer.status === 503) {
        await answer.body?.cancel()
        return undefined
      }
      return answer
    } catch {
      return undefined
    }
  }

  /**
   * The first of `partition`'s owner and standbys to answer, or a 503 naming the partition; `failed`
   * is one already asked in vain (a /saldos group's owner), not asked again.
   */
  const askHolders = async (
    partition: number,
    request: Request,
    path: string,
    body?: string,
    failed?: string,
  ) => {
    const tried = failed === undefined ? [] : [failed]
    for (const target of targets(partition)) {
      if (target.url === failed) continue
      const answer = await ask(target.url, request, path, body)
      if (answer) return answer
      tried.push(target.url)
    }
    throw moving(
      [partition],
      tried.length === 0
        ? 'no other instance is known to hold it (no assignment has given it out yet)'
        : `neither its owner nor a standby answered (${tried.join(', ')})`,
    )
  }

  return {
    /**
     * GET /saldo/:id: `answerHere` is the replica-mode answer, given once min_position (of this
     * key's partition) is reached here.
     */
    async one(
      id: string,
      request: Request,
      query: { min_position?: string },
      set: { headers: HeaderSet },
      answerHere: () => unknown,
    ) {
      const partition = partitionOf(id)
      if (local(partition)) {
        await access.reach(request, query, new Set([partition]))
        servedHere(set.headers, [partition])
        return answerHere()
      }
      const forwardedBy = request.headers.get(FORWARDED_BY_HEADER)
      if (forwardedBy !== null)
        throw moving(
          [partition],
          `${forwardedBy} sent this read here, but this instance holds no caught-up copy`,
        )
      const answer = await askHolders(partition, request, `/saldo/${encodeURIComponent(id)}`)
      const headers = new Headers()
      for (const name of ANSWERED) {
        const value = answer.headers.get(name)
        if (value !== null) headers.set(name, value)
      }
      return new Response(await answer.arrayBuffer(), { status: answer.status, headers })
    },

    /**
     * GET and POST /saldos: the ids of partitions held here are read here; the others are grouped
     * by owner and asked of each once, in parallel (a group whose owner does not answer goes to its
     * partitions' standbys). The position is the furthest of every answer's, per partition.
     */
    async many(
      ids: readonly string[],
      request: Request,
      query: { min_position?: string },
      headers: HeaderSet,
    ): Promise<BalancesBody> {
      const here: string[] = []
      const away = new Map<number, string[]>()
      for (const id of ids) {
        const partition = partitionOf(id)
        if (local(partition)) here.push(id)
        else away.set(partition, [...(away.get(partition) ?? []), id])
      }
      const forwardedBy = request.headers.get(FORWARDED_BY_HEADER)
      if (away.size > 0 && forwardedBy !== null)
        throw moving(
          [...away.keys()],
          `${forwardedBy} sent this read here, but this instance holds no caught-up copy`,
        )
      if (here.length > 0) await access.reach(request, query, new Set(here.map(partitionOf)))
      const { balances, missing } = readBalances(store, here)
      const servedBy = new Set(here.length > 0 ? [ownership.url] : [])
      const position = new Map<number, number>()
      const merge = (text: string | null) => {
        const parsed = text === null ? undefined : parsePosition(text)
        if (parsed instanceof Map)
          for (const [p, o] of parsed) position.set(p, Math.max(position.get(p) ?? 0, o))
      }
      if (here.length > 0) merge(watch.text)
      const answers = await Promise.all(
        groupByOwner(away).map(async ([url, partitions]) => {
          const groupIds = partitions.flatMap((p) => away.get(p) ?? [])
          const body = JSON.stringify({ ids: groupIds })
          const answer = url ? await ask(url, request, '/saldos', body) : undefined
          if (answer) return [answer]
          // The owner did not answer: each partition of the group from its standbys.
          return Promise.all(
            partitions.map((p) =>
              askHolders(p, request, '/saldos', JSON.stringify({ ids: away.get(p) }), url),
            ),
          )
        }),
      )
      for (const answer of answers.flat()) {
        if (!answer.ok) throw new OwnerAnswer(answer)
        const part = (await answer.json()) as BalancesBody
        balances.push(...part.balances)
        missing.push(...part.missing)
        merge(answer.headers.get(POSITION_HEADER))
        for (const url of (answer.headers.get(SERVED_BY_HEADER) ?? '').split(', ')) if (url) servedBy.add(url)
      }
      headers[POSITION_HEADER] = formatPosition(position)
      headers[SERVED_BY_HEADER] = [...servedBy].join(', ')
      return { balances, missing }
    },
  }

  function groupByOwner(away: ReadonlyMap<number, string[]>): Array<[string | undefined, number[]]> {
    const groups = new Map<string | undefined, number[]>()
    for (const partition of away.keys()) {
      const owner = ownership.holdersOf(partition)[0]
      const url = owner && !owner.self ? owner.url : undefined
      groups.set(url, [...(groups.get(url) ?? []), partition])
    }
    return [...groups]
  }
}

export type PartitionedReads = ReturnType<typeof partitionedReads>
