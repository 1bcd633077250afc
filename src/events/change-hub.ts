import { randomUUID } from 'node:crypto'
import type { Balance } from '../balance.ts'
import { counter, gauge, type MetricFamily } from '../metrics/prometheus.ts'
import { type Change, changeKey } from '../store/store.ts'
import { ChangeWindow } from './change-window.ts'
import type { BalanceChanged, BalanceDeleted, StreamError, StreamReset } from './models.ts'

export interface ChangeHubOptions {
  /** Changes kept for clients that resume with Last-Event-ID, at most. */
  bufferSize: number
  /** Bytes those kept changes may take, at most: whichever bound is reached first applies. */
  bufferBytes: number
  /**
   * Bytes of events that may wait for one client: a client with more than this unread when a new
   * batch comes is dropped. A batch is always taken whole, so the most one client holds is this plus
   * one batch (whose bytes are shared by every client that follows all ids).
   */
  clientBufferBytes: number
  /** Interval of the heartbeat comments that keep idle connections (and proxies) open. */
  heartbeatMs: number
  /** Streams open at once; one more is refused (each holds a socket and up to clientBufferBytes). */
  maxClients: number
  /**
   * How long events may wait for a client that reads none of them: a client stuck behind a full
   * socket is dropped after this long even when its queue is not full yet (heartbeats alone take long
   * to fill it).
   */
  stallTimeoutMs: number
}

export interface OpenOptions {
  /** Only changes of these clients; all when absent. */
  ids?: ReadonlySet<string>
  /** The id of the last event the client received, to resume after it. */
  lastEventId?: string
  /** Called when the client is dropped for falling behind, after its error event is queued. */
  onDrop?: () => void
}

/** open() refuses a stream: maxClients are already open. */
export class TooManyClients extends Error {
  override readonly name = 'TooManyClients'
}

/** One applied batch of a partition, while it is sent live: changes[i] got event number firstSeq + i. */
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

/** The event of one applied change: a new balance, or (without one) a delete. */
function changeFrame(
  id: string,
  partition: number,
  offset: number,
  clienteId: string,
  balance: Balance | undefined,
): string {
  // The position a store reaches by applying this change, as in X-Saldo-Position: min_position takes it.
  const position = `${partition}:${offset + 1}`
  return balance
    ? frame('change', { ...balance, position }, id)
    : frame('delete', { cliente_id: clienteId, position }, id)
}

/** A connected client: a stream whose queue is bounded by the strategy's high-water mark, in bytes. */
class Client {
  #open = true
  /** Bytes ever queued (minus those still waiting: the bytes read), and the bytes read at the last check. */
  #queued = 0
  #read = 0
  /** Since when events have waited for this client without it reading any; undefined: it keeps up. */
  #waitingSince: number | undefined

  constructor(
    readonly controller: ReadableStreamDefaultController<Uint8Array>,
    readonly ids: ReadonlySet<string> | undefined,
    readonly onDrop: (() => void) | undefined,
    readonly bufferBytes: number,
  ) {}

  /** Queues `bytes`; false when the client already has its whole buffer unread: it reads too slowly. */
  offer(bytes: Uint8Array): boolean {
    if (!this.#open) return true
    const desired = this.controller.desiredSize ?? 0
    if (desired <= 0) return false
    if (desired >= this.bufferBytes) this.#waitingSince ??= Date.now()
    this.controller.enqueue(bytes)
    this.#queued += bytes.byteLength
    return true
  }

  /**
   * How long events have waited for this client with none read. Progress is seen only when this is
   * asked, so a client that read in between counts from now: it is never dropped early.
   */
  stalledMs(now: number): number {
    const waiting = this.bufferBytes - (this.controller.desiredSize ?? 0)
    const read = this.#queued - waiting
    if (waiting <= 0) this.#waitingSince = undefined
    else if (read > this.#read) this.#waitingSince = now
    this.#read = read
    return this.#waitingSince === undefined ? 0 : now - this.#waitingSince
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
 * client costs at most that much memory and never slows the apply loop. The last changes (bounded by
 * count and bytes) are kept so that a client reconnecting with Last-Event-ID misses nothing; event ids are
 * `<run>-<sequence>`, numbered across partitions in the order changes were applied.
 */
export class ChangeHub {
  readonly #options: ChangeHubOptions
  /**
   * Tells this epoch's event ids from those of an earlier run, another instance, or the history
   * before a rebuild (each rebuild starts a new epoch).
   */
  #run = randomUUID().slice(0, 8)
  #window: ChangeWindow
  readonly #clients = new Set<Client>()
  #heartbeat: ReturnType<typeof setInterval> | undefined
  #stallCheck: ReturnType<typeof setInterval> | undefined
  #closed = false
  #dropped = 0
  #refused = 0

  constructor(options: ChangeHubOptions) {
    this.#options = options
    this.#window = new ChangeWindow(options.bufferSize, options.bufferBytes)
  }

  get clients(): number {
    return this.#clients.size
  }

  /** The id of the latest change, or of none yet in this run. */
  get lastEventId(): string {
    return `${this.#run}-${this.#window.nextSeq - 1}`
  }

  /** Records an applied batch and sends it to every client it concerns. */
  publish(partition: number, changes: readonly Change[], offsets: readonly number[]): void {
    if (changes.length === 0) return
    const window = this.#window
    const batch = { firstSeq: window.nextSeq, partition, changes, offsets }
    // A replay's batches hold thousands of changes: only the window's last ones would stay.
    const skipped = Math.max(0, changes.length - window.capacity)
    window.advance(skipped)
    for (let i = skipped; i < changes.length; i++)
      window.push(partition, offsets[i] as number, changes[i] as Change)
    let everything: Uint8Array | undefined
    for (const client of this.#clients) {
      let bytes: Uint8Array
      if (client.ids) {
        const text = this.#frames(batch, client.ids)
        if (!text) continue
        bytes = encoder.encode(text)
      } else {
        bytes = everything ??= encoder.encode(this.#frames(batch))
      }
      if (!client.offer(bytes)) this.#drop(client)
    }
  }

  /**
   * A stream of the changes applied from now on (or after `lastEventId`, when it is still kept),
   * as Server-Sent Events. It ends when the client falls too far behind or the hub is closed.
   * Throws TooManyClients when maxClients streams are open.
   */
  open({ ids, lastEventId, onDrop }: OpenOptions = {}): ReadableStream<Uint8Array> {
    const { maxClients, clientBufferBytes } = this.#options
    if (!this.#closed && this.#clients.size >= maxClients) {
      this.#refused++
      throw new TooManyClients(`${maxClients} streams are open, the most this instance serves`)
    }
    let client: Client | undefined
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          client = new Client(controller, ids, onDrop, clientBufferBytes)
        },
        cancel: () => {
          if (client) this.#remove(client)
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: clientBufferBytes }),
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
    // Checked four times per bound: a stalled client is dropped within 1.25 times stallTimeoutMs.
    this.#stallCheck ??= setInterval(() => this.#dropStalled(), Math.ceil(this.#options.stallTimeoutMs / 4))
    return stream
  }

  /**
   * The state was thrown away and is being rebuilt from the topic: what was sent no longer adds up
   * to it (keys that are gone never get a delete). Every client gets a reset event, whose id moves it
   * to a new epoch, and a resume from an id of the old one gets a reset too.
   */
  reset(why: string): void {
    this.#run = randomUUID().slice(0, 8)
    this.#window = new ChangeWindow(this.#options.bufferSize, this.#options.bufferBytes)
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
      gauge(
        'saldo_events_window_changes',
        'Changes kept for /events clients that resume.',
        this.#window.size,
      ),
      gauge(
        'saldo_events_window_bytes',
        'Estimated bytes of the changes kept for /events clients that resume.',
        this.#window.bytes,
      ),
      counter(
        'saldo_events_clients_dropped_total',
        'Clients of GET /events dropped because they read too slowly or stopped reading.',
        this.#dropped,
      ),
      counter(
        'saldo_events_clients_refused_total',
        'Connections to GET /events refused (503) because the most allowed streams were open.',
        this.#refused,
      ),
    ]
  }

  /** Frames of the changes of `batch`, for a client following `ids` (or all). */
  #frames(batch: Batch, ids?: ReadonlySet<string>): string {
    let text = ''
    for (let i = 0; i < batch.changes.length; i++) {
      const change = batch.changes[i] as Change
      const clienteId = changeKey(change)
      if (ids && !ids.has(clienteId)) continue
      const id = `${this.#run}-${batch.firstSeq + i}`
      const balance = change.kind === 'put' ? change.balance : undefined
      text += changeFrame(id, batch.partition, batch.offsets[i] as number, clienteId, balance)
    }
    return text
  }

  /** What a client resuming after `lastEventId` missed, or a reset event when that is no longer known. */
  #backlog(lastEventId: string | undefined, ids: ReadonlySet<string> | undefined): string {
    if (lastEventId === undefined) return ''
    const match = /^([0-9a-f]+)-(\d+)$/.exec(lastEventId)
    const seq = Number(match?.[2])
    const window = this.#window
    if (match?.[1] !== this.#run || seq >= window.nextSeq) {
      return this.#reset(
        `Last-Event-ID ${JSON.stringify(lastEventId)} is not from this run of this instance, or from before a rebuild`,
      )
    }
    if (seq + 1 < window.oldestSeq) {
      return this.#reset(
        `${window.nextSeq - 1 - seq} changes happened since Last-Event-ID; only the last ${window.size} are kept`,
      )
    }
    let text = ''
    window.forEachAfter(seq, (s, partition, offset, clienteId, balance) => {
      if (!ids || ids.has(clienteId))
        text += changeFrame(`${this.#run}-${s}`, partition, offset, clienteId, balance)
    })
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

  #dropStalled(): void {
    const now = Date.now()
    const limit = this.#options.stallTimeoutMs
    for (const client of this.#clients) {
      const stalled = client.stalledMs(now)
      if (stalled >= limit) this.#drop(client, `it read nothing of its events for ${stalled} ms`)
    }
  }

  #drop(
    client: Client,
    why = `more than ${this.#options.clientBufferBytes} bytes of events waited for it`,
  ): void {
    this.#dropped++
    this.#remove(client)
    client.end(
      frame('error', {
        error: `this client reads too slowly: ${why}; reconnect with Last-Event-ID to resume`,
      }),
    )
    client.onDrop?.()
  }

  #remove(client: Client): void {
    this.#clients.delete(client)
    if (this.#clients.size === 0) {
      clearInterval(this.#heartbeat)
      clearInterval(this.#stallCheck)
      this.#heartbeat = undefined
      this.#stallCheck = undefined
    }
  }
}
