import { randomUUID } from 'node:crypto'
import { counter, gauge, type MetricFamily } from '../metrics/prometheus.ts'
import type { Change } from '../store/store.ts'
import type { BalanceChanged, BalanceDeleted, StreamError, StreamReset } from './models.ts'

export interface ChangeHubOptions {
  /** Changes kept for clients that resume with Last-Event-ID. */
  bufferSize: number
  /**
   * Bytes of events that may wait for one client: a client with more than this unread when a new
   * batch comes is dropped. A batch is always taken whole, so the most one client holds is this plus
   * one batch (whose bytes are shared by every client that follows all ids).
   */
  clientBufferBytes: number
  /** Interval of the heartbeat comments that keep idle connections (and proxies) open. */
  heartbeatMs: number
}

export interface OpenOptions {
  /** Only changes of these clients; all when absent. */
  ids?: ReadonlySet<string>
  /** The id of the last event the client received, to resume after it. */
  lastEventId?: string
  /** Called when the client is dropped for falling behind, after its error event is queued. */
  onDrop?: () => void
}

/** One applied batch of a partition: changes[i] got event number firstSeq + i. */
interface Batch {
  firstSeq: number
  partition: number
  changes: readonly Change[]
  offsets: readonly number[]
}

const encoder = new TextEncoder()
const HEARTBEAT = encoder.encode(': heartbeat\n\n')

function frame(
  event: string,
  data: BalanceChanged | BalanceDeleted | StreamReset | StreamError,
  id?: string,
) {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

/** A connected client: a stream whose queue is bounded by the strategy's high-water mark, in bytes. */
class Client {
  #open = true

  constructor(
    readonly controller: ReadableStreamDefaultController<Uint8Array>,
    readonly ids: ReadonlySet<string> | undefined,
    readonly onDrop: (() => void) | undefined,
  ) {}

  /** Queues `bytes`; false when the client already has its whole buffer unread: it reads too slowly. */
  offer(bytes: Uint8Array): boolean {
    if (!this.#open) return true
    if ((this.controller.desiredSize ?? 0) <= 0) return false
    this.controller.enqueue(bytes)
    return true
  }

  /** Ends the stream after what is queued (and `last`, which may go past the bound) is read. */
  end(last?: string): void {
    if (!this.#open) return
    this.#open = false
    if (last) this.controller.enqueue(encoder.encode(last))
    this.controller.close()
  }
}

/**
 * Fans applied changes out to Server-Sent Events streams. It knows nothing of Kafka: the materializer
 * hands it each applied batch. Publishing never waits for a client: each client has a queue bounded
 * in bytes, and a client whose queue is full is sent an error event and dropped, so a slow or stuck
 * client costs at most that much memory and never slows the apply loop. The last `bufferSize` changes
 * are kept so that a client reconnecting with Last-Event-ID misses nothing; event ids are
 * `<run>-<sequence>`, numbered across partitions in the order changes were applied.
 */
export class ChangeHub {
  readonly #options: ChangeHubOptions
  /**
   * Tells this epoch's event ids from those of an earlier run, another instance, or the history
   * before a rebuild (each rebuild starts a new epoch).
   */
  #run = randomUUID().slice(0, 8)
  readonly #batches: Batch[] = []
  #head = 0
  #kept = 0
  #nextSeq = 1
  readonly #clients = new Set<Client>()
  #heartbeat: ReturnType<typeof setInterval> | undefined
  #closed = false
  #dropped = 0

  constructor(options: ChangeHubOptions) {
    this.#options = options
  }

  get clients(): number {
    return this.#clients.size
  }

  /** The id of the latest change, or of none yet in this run. */
  get lastEventId(): string {
    return `${this.#run}-${this.#nextSeq - 1}`
  }

  /** Records an applied batch and sends it to every client it concerns. */
  publish(partition: number, changes: readonly Change[], offsets: readonly number[]): void {
    if (changes.length === 0) return
    const batch = { firstSeq: this.#nextSeq, partition, changes, offsets }
    this.#nextSeq += changes.length
    this.#keep(batch)
    let everything: Uint8Array | undefined
    for (const client of this.#clients) {
      let bytes: Uint8Array
      if (client.ids) {
        const text = this.#frames(batch, 0, client.ids)
        if (!text) continue
        bytes = encoder.encode(text)
      } else {
        bytes = everything ??= encoder.encode(this.#frames(batch, 0))
      }
      if (!client.offer(bytes)) this.#drop(client)
    }
  }

  /**
   * A stream of the changes applied from now on (or after `lastEventId`, when it is still kept),
   * as Server-Sent Events. It ends when the client falls too far behind or the hub is closed.
   */
  open({ ids, lastEventId, onDrop }: OpenOptions = {}): ReadableStream<Uint8Array> {
    let client: Client | undefined
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          client = new Client(controller, ids, onDrop)
        },
        cancel: () => {
          if (client) this.#remove(client)
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: this.#options.clientBufferBytes }),
    )
    if (!client) throw new Error('ReadableStream must call start synchronously')
    if (this.#closed) {
      client.end()
      return stream
    }
    // The backlog and the subscription happen in one go: no change can slip in between. The id line
    // sets the client's Last-Event-ID to now, so a reconnect misses nothing even before any change.
    client.offer(encoder.encode(`${this.#backlog(lastEventId, ids)}: connected\nid: ${this.lastEventId}\n\n`))
    this.#clients.add(client)
    this.#heartbeat ??= setInterval(() => this.#beat(), this.#options.heartbeatMs)
    return stream
  }

  /**
   * The state was thrown away and is being rebuilt from the topic: what was sent no longer adds up
   * to it (keys that are gone never get a delete). Every client gets a reset event, whose id moves it
   * to a new epoch, and a resume from an id of the old one gets a reset too.
   */
  reset(why: string): void {
    this.#run = randomUUID().slice(0, 8)
    this.#batches.length = 0
    this.#head = 0
    this.#kept = 0
    this.#nextSeq = 1
    const bytes = encoder.encode(this.#reset(why, this.lastEventId))
    for (const client of this.#clients) {
      if (!client.offer(bytes)) this.#drop(client)
    }
  }

  /** Ends every stream and refuses new ones: the service is stopping. */
  close(): void {
    this.#closed = true
    for (const client of this.#clients) {
      client.end()
      this.#remove(client)
    }
  }

  metrics(): MetricFamily[] {
    return [
      gauge('saldo_events_clients', 'Clients connected to GET /events.', this.#clients.size),
      counter(
        'saldo_events_clients_dropped_total',
        'Clients of GET /events dropped because they read too slowly.',
        this.#dropped,
      ),
    ]
  }

  #keep(batch: Batch): void {
    this.#batches.push(batch)
    this.#kept += batch.changes.length
    // Whole batches are kept as long as the rest still holds at least bufferSize changes.
    for (;;) {
      const oldest = this.#batches[this.#head]
      if (!oldest || this.#head === this.#batches.length - 1) break
      if (this.#kept - oldest.changes.length < this.#options.bufferSize) break
      this.#kept -= oldest.changes.length
      this.#head++
    }
    // Dropping batches from the front one by one would move the whole array each time.
    if (this.#head > 1024 && this.#head * 2 > this.#batches.length) {
      this.#batches.splice(0, this.#head)
      this.#head = 0
    }
  }

  /** Frames of the changes of `batch` from index `from` on, for a client following `ids` (or all). */
  #frames(batch: Batch, from: number, ids?: ReadonlySet<string>): string {
    let text = ''
    for (let i = from; i < batch.changes.length; i++) {
      const change = batch.changes[i] as Change
      const clienteId = change.kind === 'put' ? change.balance.cliente_id : change.clienteId
      if (ids && !ids.has(clienteId)) continue
      // The position a store reaches by applying this change, as in X-Saldo-Position: min_position takes it.
      const position = `${batch.partition}:${(batch.offsets[i] as number) + 1}`
      const id = `${this.#run}-${batch.firstSeq + i}`
      text +=
        change.kind === 'put'
          ? frame('change', { ...change.balance, position }, id)
          : frame('delete', { cliente_id: clienteId, position }, id)
    }
    return text
  }

  /** What a client resuming after `lastEventId` missed, or a reset event when that is no longer known. */
  #backlog(lastEventId: string | undefined, ids: ReadonlySet<string> | undefined): string {
    if (lastEventId === undefined) return ''
    const match = /^([0-9a-f]+)-(\d+)$/.exec(lastEventId)
    const seq = Number(match?.[2])
    if (match?.[1] !== this.#run || seq >= this.#nextSeq) {
      return this.#reset(
        `Last-Event-ID ${JSON.stringify(lastEventId)} is not from this run of this instance, or from before a rebuild`,
      )
    }
    const oldest = this.#batches[this.#head]?.firstSeq ?? this.#nextSeq
    if (seq + 1 < oldest) {
      return this.#reset(
        `${this.#nextSeq - 1 - seq} changes happened since Last-Event-ID; only the last ${this.#options.bufferSize} are kept`,
      )
    }
    let text = ''
    for (let i = this.#head; i < this.#batches.length; i++) {
      const batch = this.#batches[i] as Batch
      const after = seq + 1 - batch.firstSeq
      if (after < batch.changes.length) text += this.#frames(batch, Math.max(0, after), ids)
    }
    return text
  }

  #reset(why: string, id?: string): string {
    return frame(
      'reset',
      { reason: `${why}: reload the balances you show, then keep following this stream` },
      id,
    )
  }

  #beat(): void {
    for (const client of this.#clients) {
      if (!client.offer(HEARTBEAT)) this.#drop(client)
    }
  }

  #drop(client: Client): void {
    this.#dropped++
    this.#remove(client)
    client.end(
      frame('error', {
        error: `this client reads too slowly: more than ${this.#options.clientBufferBytes} bytes of events waited for it; reconnect with Last-Event-ID to resume`,
      }),
    )
    client.onDrop?.()
  }

  #remove(client: Client): void {
    this.#clients.delete(client)
    if (this.#clients.size === 0 && this.#heartbeat) {
      clearInterval(this.#heartbeat)
      this.#heartbeat = undefined
    }
  }
}
