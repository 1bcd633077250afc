// The dashboard's script. It runs in the browser: src/http/routes/dashboard.ts strips its types and
// inlines it into the page, unbundled, so it may import types only (they come from the server's own
// schemas) and nothing else. Every text from the service goes into the page as text, never as HTML.
import type { Balance } from '../../balance.ts'
import type { BalanceChanged, BalanceDeleted, StreamError, StreamReset } from '../../events/models.ts'
import type { ReadyBody } from '../../kafka/readiness.ts'
import type { Summary } from '../../kafka/summary.ts'
import type { Movement } from '../../movements/movement.ts'
import type { OwnershipStatus } from '../../ownership/models.ts'
import type {
  BalancesBody,
  DeleteResult,
  ErrorBody,
  MovementResult,
  MovementsList,
  ReadyAnswer,
  WriteResult,
} from '../models.ts'
// Inlined before this script by page.ts, not imported by the browser.
import { balanceChart, polylinePoints } from './chart.ts'

/** How often /ready and /stats are asked. */
const REFRESH_MS = 1000
/** Rows kept in the table of latest changes. */
const LIVE_ROWS = 50
/** The contract's text for an unknown client, shown for each id /saldos reports missing. */
const CLIENT_NOT_FOUND = 'cliente não encontrado'
const TOKEN_KEY = 'saldo.token'
/** Movements listed, and drawn, for the looked-up client. */
const MOVEMENTS_SHOWN = 20
/** The chart's drawing area, in the SVG's user units (its viewBox). */
const CHART_BOX = { width: 320, height: 90, pad: 6 }

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id)
  if (!element) throw new Error(`the page has no #${id}`)
  return element as T
}

function cell(text: string, className = ''): HTMLTableCellElement {
  const td = document.createElement('td')
  td.textContent = text
  if (className) td.className = className
  return td
}

function show(element: HTMLElement, text: string | undefined): void {
  element.textContent = text ?? ''
  element.hidden = !text
}

const integer = new Intl.NumberFormat()
const money = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 20 })

function saldoCell(saldo: number): HTMLTableCellElement {
  return cell(money.format(saldo), saldo < 0 ? 'num negative' : 'num')
}

function duration(seconds: number | null): string {
  if (seconds === null) return '–'
  if (seconds < 60) return `${Math.ceil(seconds)} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`
}

/** Restarts the highlight animation of `element`, also when it is already highlighted. */
function flash(element: HTMLElement): void {
  element.classList.remove('flash')
  void element.offsetWidth
  element.classList.add('flash')
}

// ---- Requests ----------------------------------------------------------------------------------

const tokenInput = byId<HTMLInputElement>('token')
tokenInput.value = sessionStorage.getItem(TOKEN_KEY) ?? ''
const token = () => tokenInput.value.trim()

interface Answer {
  status: number
  body: unknown
  headers: Headers
}

/**
 * A request to the service with the token, if one is entered, and its JSON answer. It throws an
 * Error whose message says what went wrong when the service cannot be reached or does not answer JSON.
 */
async function request(path: string, init: RequestInit = {}): Promise<Answer> {
  const headers = new Headers(init.headers)
  if (token()) headers.set('authorization', `Bearer ${token()}`)
  let res: Response
  try {
    res = await fetch(path, { ...init, headers, cache: 'no-store' })
  } catch (error) {
    throw new Error(`cannot reach saldo-api (${(error as Error).message}); is it running?`)
  }
  const text = await res.text()
  try {
    return { status: res.status, body: JSON.parse(text), headers: res.headers }
  } catch {
    throw new Error(`HTTP ${res.status} from ${path}, not JSON: ${text.slice(0, 120)}`)
  }
}

/** The service's own sentence for a failed request. */
function failure({ status, body }: Answer): string {
  const error = (body as Partial<ErrorBody>).error
  return `HTTP ${status}: ${error ?? JSON.stringify(body)}`
}

// ---- Status, replay and counters ----------------------------------------------------------------

const statusPill = byId('status')
const banner = byId<HTMLUListElement>('banner')

function setStatus(text: string, kind: 'ready' | 'replaying' | 'down' | ''): void {
  statusPill.textContent = text
  statusPill.className = `pill ${kind}`
}

function setBanner(items: Array<{ text: string; level: 'bad' | 'warn' }>): void {
  banner.replaceChildren(
    ...items.map(({ text, level }) => {
      const li = document.createElement('li')
      li.className = level
      li.textContent = text
      return li
    }),
  )
  banner.hidden = items.length === 0
}

const partitionRow = byId<HTMLTemplateElement>('partition-row')

function renderReplay(ready: ReadyBody): void {
  byId('replay').hidden = ready.ready
  if (ready.ready) return
  const begun = ready.partitions.length > 0
  byId('replay-waiting').hidden = begun
  byId('replay-figures').hidden = !begun
  byId('replay-remaining').textContent = integer.format(ready.remaining)
  byId('replay-rate').textContent = integer.format(ready.recordsPerSecond)
  byId('replay-eta').textContent = duration(ready.etaSeconds)
  const list = byId<HTMLOListElement>('partitions')
  // Rows are kept between refreshes, so the bars glide instead of jumping.
  while (list.children.length > ready.partitions.length) list.lastElementChild?.remove()
  ready.partitions.forEach((p, i) => {
    let row = list.children[i] as HTMLLIElement | undefined
    if (!row) {
      row = partitionRow.content.firstElementChild?.cloneNode(true) as HTMLLIElement
      list.append(row)
    }
    const done = p.caughtUp
    const share = p.endOffset === 0 ? 1 : Math.min(1, p.position / p.endOffset)
    row.classList.toggle('done', done)
    row.dataset.partition = String(p.partition)
    const name = row.querySelector<HTMLElement>('.name')
    const count = row.querySelector<HTMLElement>('.count')
    const fill = row.querySelector<HTMLElement>('.fill')
    if (name) name.textContent = `partition ${p.partition}`
    if (count) {
      count.textContent = `${integer.format(p.position)} / ${integer.format(p.endOffset)}${done ? ' ✓' : ` · ${Math.floor(share * 100)}%`}`
    }
    if (fill) fill.style.width = `${share * 100}%`
  })
}

async function refreshReady(): Promise<void> {
  let answer: Answer
  try {
    answer = await request('ready')
  } catch (error) {
    setStatus('unreachable', 'down')
    setBanner([{ text: `${(error as Error).message} Retrying every second.`, level: 'bad' }])
    return
  }
  if (answer.status !== 200 && answer.status !== 503) {
    setStatus('error', 'down')
    setBanner([{ text: `GET /ready failed: ${failure(answer)}`, level: 'bad' }])
    return
  }
  const ready = answer.body as ReadyAnswer
  const notes: Array<{ text: string; level: 'bad' | 'warn' }> = []
  if (!ready.kafka.connected) {
    setStatus('Kafka disconnected', 'down')
    const why = ready.kafka.lastError ? `: ${ready.kafka.lastError}` : ''
    notes.push({
      text: `Kafka is disconnected${why}. saldo serves the last state it knows and keeps retrying.`,
      level: 'bad',
    })
  } else {
    setStatus(ready.ready ? 'ready' : 'replaying', ready.ready ? 'ready' : 'replaying')
  }
  if (ready.storeError) notes.push({ text: `${ready.storeError}. Reads answer 503 meanwhile.`, level: 'bad' })
  for (const warning of ready.warnings) notes.push({ text: warning, level: 'warn' })
  setBanner(notes)
  renderReplay(ready)
  renderCluster(ready.ownership)
  byId('stat-keys').textContent = integer.format(ready.keys)
  byId('stat-keys-note').textContent = ready.ready ? 'with a balance' : 'so far, while replaying'
}

/** "partition 3", "partitions 0, 3 and 7", or undefined for none. */
function partitionList(partitions: readonly number[]): string | undefined {
  if (partitions.length === 0) return undefined
  const last = partitions[partitions.length - 1]
  return partitions.length === 1
    ? `partition ${last}`
    : `partitions ${partitions.slice(0, -1).join(', ')} and ${last}`
}

/** What this instance holds and does, in a sentence. */
function clusterSummary({ mode, url, owned, standbys }: OwnershipStatus): string {
  const writes = partitionList(owned)
  if (mode === 'replica') {
    return `Every instance holds every partition and answers every read itself (MODE=replica). This instance (${url}) ${writes ? `owns the writes of ${writes}` : "owns no partition's writes"}.`
  }
  const copies = partitionList(standbys)
  if (!writes && !copies)
    return `This instance (${url}) holds no partition (MODE=partitioned): it answers every key by asking its owner.`
  const held = [writes && `owns ${writes}`, copies && `holds a standby copy of ${copies}`].filter(Boolean)
  return `This instance (${url}) ${held.join(' and ')} (MODE=partitioned); a key of any other partition is asked of its owner.`
}

/** The Cluster card: every partition's owner and standbys, and which are this instance's. */
function renderCluster(ownership: OwnershipStatus): void {
  byId('cluster').hidden = false
  const { mode, generation, owners, url } = ownership
  byId('cluster-mode').textContent =
    generation < 0 ? `MODE=${mode}, not in the group yet` : `MODE=${mode} · generation ${generation}`
  byId('cluster-summary').textContent = clusterSummary(ownership)
  byId('cluster-waiting').hidden = owners.length > 0
  const table = byId<HTMLTableElement>('cluster-table')
  table.hidden = owners.length === 0
  table.dataset.mode = mode
  const standbys = new Set(ownership.standbys)
  const rows = owners.map((owner) => {
    const row = document.createElement('tr')
    row.dataset.partition = String(owner.partition)
    const role = owner.self ? 'owned' : standbys.has(owner.partition) ? 'standby' : ''
    if (role) row.className = role
    const here =
      role === 'owned'
        ? 'owner'
        : role === 'standby'
          ? 'standby copy'
          : mode === 'replica'
            ? 'a copy'
            : 'asks the owner'
    const copies = owner.standbys.map((copy) => (copy === url ? `${copy} (this one)` : copy))
    row.append(
      cell(String(owner.partition), 'num'),
      cell(owner.self ? `${owner.url} (this one)` : owner.url, 'url'),
      cell(copies.join(', ') || '–', 'url standbys'),
      cell(here, 'here'),
    )
    return row
  })
  byId('cluster-rows').replaceChildren(...rows)
}

function renderSummary(summary: Summary): void {
  byId('stat-applied').textContent = integer.format(summary.applied)
  byId('stat-applied-note').textContent =
    summary.tombstones > 0 ? `plus ${integer.format(summary.tombstones)} deleted` : 'balance records'
  byId('stat-lag').textContent = integer.format(summary.lag)
  const behind = summary.partitions.filter((p) => p.lag > 0)
  byId('stat-lag-note').textContent =
    summary.partitions.length === 0
      ? 'no partition read yet'
      : behind.length === 0
        ? `${summary.partitions.length} partitions, all caught up`
        : behind.map((p) => `p${p.partition}: ${integer.format(p.lag)}`).join(' · ')
  const rejected = byId('stat-rejected')
  rejected.textContent = integer.format(summary.rejected)
  rejected.classList.toggle('bad', summary.rejected > 0)
  const reasons = Object.entries(summary.rejectedByReason).filter(([, n]) => n > 0)
  byId('stat-rejected-note').textContent =
    reasons.length === 0
      ? 'none refused'
      : reasons.map(([reason, n]) => `${reason.replaceAll('_', ' ')}: ${integer.format(n)}`).join(' · ')
}

async function refreshStats(): Promise<void> {
  const error = byId('stats-error')
  try {
    const answer = await request('stats')
    if (answer.status === 200) {
      renderSummary(answer.body as Summary)
      show(error, undefined)
    } else if (answer.status === 401) {
      const what = token() ? 'the token entered was refused' : 'enter it above'
      show(error, `The counters need the API token on this server (METRICS_PUBLIC=false): ${what}.`)
    } else {
      show(error, `GET /stats failed: ${failure(answer)}`)
    }
  } catch (thrown) {
    show(error, `Counters not updated: ${(thrown as Error).message}`)
  }
}

async function refresh(): Promise<void> {
  try {
    await Promise.all([refreshReady(), refreshStats()])
  } finally {
    setTimeout(refresh, REFRESH_MS)
  }
}

// ---- Lookup ------------------------------------------------------------------------------------

const lookupRows = byId<HTMLTableSectionElement>('lookup-rows')
/** The rows of the looked-up clients, so that a live change updates them too. */
const lookedUp = new Map<string, HTMLTableRowElement>()

function balanceRow(balance: Balance): HTMLTableRowElement {
  const row = document.createElement('tr')
  row.append(cell(balance.cliente_id, 'id'), saldoCell(balance.saldo), cell(balance.timestamp, 'ts'))
  return row
}

function missingRow(id: string, text: string): HTMLTableRowElement {
  const row = document.createElement('tr')
  row.className = 'missing'
  const message = cell(text)
  message.colSpan = 2
  row.append(cell(id, 'id'), message)
  return row
}

function showLookup(balances: Balance[], missing: Array<[string, string]>, position: string | null): void {
  lookedUp.clear()
  const rows = balances.map((balance) => {
    const row = balanceRow(balance)
    lookedUp.set(balance.cliente_id, row)
    return row
  })
  lookupRows.replaceChildren(...rows, ...missing.map(([id, text]) => missingRow(id, text)))
  byId('lookup-table').hidden = false
  byId('lookup-position').textContent = position ? `as of position ${position}` : ''
}

async function lookup(text: string): Promise<void> {
  const error = byId('lookup-error')
  const ids = [...new Set(text.split(',').map((id) => id.trim()))].filter((id) => id !== '')
  if (ids.length === 0) {
    show(error, 'Enter a cliente_id, or several separated by commas.')
    return
  }
  // One client looked up, found or not (a credit creates it): its movements show too.
  showMovementsOf(ids.length === 1 ? ids[0] : undefined)
  const answer =
    ids.length === 1
      ? await request(`saldo/${encodeURIComponent(ids[0] as string)}`)
      : await request(`saldos?ids=${ids.map(encodeURIComponent).join(',')}`)
  const position = answer.headers.get('x-saldo-position')
  show(error, undefined)
  if (answer.status === 200 && ids.length === 1) {
    showLookup([answer.body as Balance], [], position)
  } else if (answer.status === 200) {
    const { balances, missing } = answer.body as BalancesBody
    showLookup(
      balances,
      missing.map((id) => [id, CLIENT_NOT_FOUND]),
      position,
    )
  } else if (answer.status === 404) {
    showLookup([], [[ids[0] as string, (answer.body as ErrorBody).error]], position)
  } else {
    byId('lookup-table').hidden = true
    show(error, failure(answer))
  }
}

// ---- Latest changes, live from /events -----------------------------------------------------------

type LiveEntry =
  | { kind: 'change'; data: BalanceChanged }
  | { kind: 'delete'; data: BalanceDeleted }
  | { kind: 'gap'; text: string }

const liveRows = byId<HTMLTableSectionElement>('live-rows')
const liveStatus = byId('live-status')
/** Events not drawn yet: a replay sends thousands a second, and the table is drawn once per frame. */
let pending: Array<LiveEntry & { at: Date }> = []

function liveRow(entry: LiveEntry, at: Date): HTMLTableRowElement {
  const row = document.createElement('tr')
  if (entry.kind === 'gap') {
    row.className = 'gap'
    const message = cell(entry.text)
    message.colSpan = 5
    row.append(message)
    return row
  }
  const time = at.toLocaleTimeString(undefined, { hour12: false })
  const { data } = entry
  row.dataset.id = data.cliente_id
  if (entry.kind === 'change') {
    row.append(
      cell(time, 'time'),
      cell(data.cliente_id, 'id'),
      saldoCell(entry.data.saldo),
      cell(entry.data.timestamp, 'ts wide'),
      cell(data.position, 'pos wide'),
    )
  } else {
    row.className = 'gone'
    row.append(
      cell(time, 'time'),
      cell(data.cliente_id, 'id'),
      cell('deleted', 'num'),
      cell('', 'wide'),
      cell(data.position, 'pos wide'),
    )
  }
  return row
}

function drawLive(): void {
  const entries = pending.slice(-LIVE_ROWS)
  pending = []
  const rows = entries.reverse().map(({ at, ...entry }) => {
    const row = liveRow(entry, at)
    row.classList.add('flash')
    return row
  })
  liveRows.prepend(...rows)
  while (liveRows.children.length > LIVE_ROWS) liveRows.lastElementChild?.remove()
  byId('live-empty').hidden = liveRows.children.length > 0
}

function receive(entry: LiveEntry): void {
  if (pending.length === 0) requestAnimationFrame(drawLive)
  pending.push({ ...entry, at: new Date() })
  if (pending.length > LIVE_ROWS * 2) pending = pending.slice(-LIVE_ROWS)
  if (entry.kind === 'gap') return
  if (entry.data.cliente_id === movementsClient) void refreshMovements()
  const row = lookedUp.get(entry.data.cliente_id)
  if (!row) return
  if (entry.kind === 'change') {
    const updated = balanceRow(entry.data)
    row.replaceWith(updated)
    lookedUp.set(entry.data.cliente_id, updated)
    flash(updated)
  } else {
    const gone = missingRow(entry.data.cliente_id, 'deleted just now')
    row.replaceWith(gone)
    lookedUp.delete(entry.data.cliente_id)
    flash(gone)
  }
}

function setLive(text: string, kind: 'on' | 'off' | ''): void {
  liveStatus.textContent = text
  liveStatus.className = `live-status ${kind}`
}

// The stream is read with fetch rather than EventSource, which cannot send the bearer token that
// /events needs when the server has one.
let lastEventId: string | undefined
let stream: AbortController | undefined

function dispatch(event: string, data: string): void {
  if (event === 'change') receive({ kind: 'change', data: JSON.parse(data) as BalanceChanged })
  else if (event === 'delete') receive({ kind: 'delete', data: JSON.parse(data) as BalanceDeleted })
  else if (event === 'reset') {
    const { reason } = JSON.parse(data) as StreamReset
    receive({ kind: 'gap', text: `Some changes were missed (${reason}); the rows below may be out of date.` })
  } else if (event === 'error') {
    const { error } = JSON.parse(data) as StreamError
    receive({ kind: 'gap', text: `The change stream was cut: ${error}` })
  }
}

/** Reads Server-Sent Events from `body` until it ends: `event:`, `data:` and `id:` lines, blank-line framed. */
async function readStream(body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let event = 'message'
  let data: string[] = []
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return
    buffer += decoder.decode(value, { stream: true })
    const lines = buffer.split('\n')
    buffer = lines.pop() ?? ''
    for (const line of lines) {
      if (line === '') {
        if (data.length > 0) dispatch(event, data.join('\n'))
        event = 'message'
        data = []
      } else if (line.startsWith('event:')) event = line.slice(6).trim()
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
      else if (line.startsWith('id:')) lastEventId = line.slice(3).trim()
    }
  }
}

async function follow(): Promise<void> {
  stream?.abort()
  const controller = new AbortController()
  stream = controller
  const headers = new Headers()
  if (token()) headers.set('authorization', `Bearer ${token()}`)
  if (lastEventId) headers.set('last-event-id', lastEventId)
  try {
    const answer = await fetch('events', { headers, signal: controller.signal })
    if (answer.status === 401) {
      setLive(token() ? 'the token was refused' : 'needs the API token', 'off')
      return
    }
    if (!answer.ok || !answer.body) throw new Error(`HTTP ${answer.status}`)
    setLive('live', 'on')
    await readStream(answer.body)
  } catch (error) {
    if (controller.signal.aborted) return
    setLive(`disconnected (${(error as Error).message}); reconnecting…`, 'off')
  }
  if (controller.signal.aborted) return
  setLive('reconnecting…', 'off')
  setTimeout(() => void follow(), REFRESH_MS * 3)
}

// ---- Movements of the looked-up client ------------------------------------------------------------

const movementsSection = byId('movements')
const movementForm = byId<HTMLFormElement>('movement')
const movementResult = byId('movement-result')
const chart = byId('movements-chart') as unknown as SVGGElement
/** The client whose movements show; undefined while none (or several) is looked up. */
let movementsClient: string | undefined
/** Re-reads are coalesced: one in flight, and one more after it if a change came meanwhile. */
let movementsReading: Promise<void> | undefined
let movementsStale = false

function showMovementsOf(id: string | undefined): void {
  if (id !== movementsClient) {
    // Another client's rows would light up as new in the next drawing: start from nothing.
    byId('movements-rows').replaceChildren()
    for (const part of ['movements-table', 'movements-empty', 'movements-chart-box']) byId(part).hidden = true
  }
  movementsClient = id
  movementsSection.hidden = id === undefined
  if (id === undefined) return
  byId('movements-client').textContent = id
  movementResult.hidden = true
  void refreshMovements()
}

function refreshMovements(): Promise<void> {
  if (movementsReading) {
    movementsStale = true
    return movementsReading
  }
  movementsReading = readMovements().finally(() => {
    movementsReading = undefined
    if (movementsStale) {
      movementsStale = false
      void refreshMovements()
    }
  })
  return movementsReading
}

async function readMovements(): Promise<void> {
  const id = movementsClient
  if (id === undefined) return
  const error = byId('movements-error')
  let answer: Answer
  try {
    answer = await request(`saldo/${encodeURIComponent(id)}/movimentos?limit=${MOVEMENTS_SHOWN}`)
  } catch (thrown) {
    return show(error, `Movements not updated: ${(thrown as Error).message}`)
  }
  // Another client was looked up meanwhile: this answer is not for the page any more.
  if (id !== movementsClient) return
  if (answer.status === 200) {
    show(error, undefined)
    drawMovements((answer.body as MovementsList).movimentos)
  } else if (answer.status === 404) {
    show(error, undefined)
    drawMovements([])
  } else {
    show(error, `GET /saldo/${id}/movimentos failed: ${failure(answer)}`)
  }
}

function movementRow(m: Movement): HTMLTableRowElement {
  const row = document.createElement('tr')
  row.dataset.key = m.idempotency_key
  row.append(
    cell(m.timestamp, 'ts'),
    cell(`${m.valor > 0 ? '+' : ''}${money.format(m.valor)}`, m.valor < 0 ? 'num negative' : 'num'),
    saldoCell(m.saldo),
    cell(m.descricao ?? '', 'wide'),
  )
  return row
}

function drawMovements(movimentos: Movement[]): void {
  const shown = new Set(
    Array.from(byId('movements-rows').children, (row) => (row as HTMLElement).dataset.key),
  )
  const rows = movimentos.map((m) => {
    const row = movementRow(m)
    // Only the rows that are new since the last reading light up.
    if (shown.size > 0 && !shown.has(m.idempotency_key)) row.classList.add('flash')
    return row
  })
  byId('movements-rows').replaceChildren(...rows)
  byId('movements-table').hidden = movimentos.length === 0
  byId('movements-empty').hidden = movimentos.length > 0
  drawChart(movimentos)
}

/** The balance over the listed movements, as an inline SVG line with a dot (and a tooltip) per balance. */
function drawChart(movimentos: Movement[]): void {
  const { points, lowest, highest } = balanceChart(movimentos, CHART_BOX)
  byId('movements-chart-box').hidden = points.length === 0
  const svg = (name: string, attributes: Record<string, string | number>) => {
    // The namespace is taken from the page's own SVG, so the script holds no URL.
    const element = document.createElementNS(chart.namespaceURI, name)
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value))
    return element
  }
  const line = svg('polyline', { points: polylinePoints(points), class: 'line' })
  const dots = points.map(({ x, y, saldo, timestamp }) => {
    const dot = svg('circle', { cx: x, cy: y, r: 3, class: saldo < 0 ? 'dot negative' : 'dot' })
    const title = svg('title', {})
    title.textContent = `${money.format(saldo)} at ${timestamp}`
    dot.append(title)
    return dot
  })
  chart.replaceChildren(line, ...dots)
  const first = points[0]
  const last = points[points.length - 1]
  byId('movements-chart-caption').textContent =
    first && last
      ? `Balance from ${money.format(first.saldo)} to ${money.format(last.saldo)} over ${movimentos.length} movement${movimentos.length === 1 ? '' : 's'}; lowest ${money.format(lowest)}, highest ${money.format(highest)}.`
      : ''
}

/** A new Idempotency-Key. getRandomValues, unlike randomUUID, also works on a page served over plain http. */
function newIdempotencyKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join(
    '',
  )
}

function showMovementResult(ok: boolean, text: string, position?: string | null): void {
  showResult(movementResult, ok, text, position)
}

async function sendMovement(): Promise<void> {
  const id = movementsClient
  const valorText = byId<HTMLInputElement>('movement-valor').value
  const descricao = byId<HTMLInputElement>('movement-descricao').value.trim()
  if (id === undefined) return
  if (valorText === '') return showMovementResult(false, 'Enter the valor: > 0 credits, < 0 debits.')
  const send = byId<HTMLButtonElement>('movement-send')
  send.disabled = true
  try {
    const valor = Number(valorText)
    const answer = await request(`saldo/${encodeURIComponent(id)}/movimentos`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': newIdempotencyKey() },
      body: JSON.stringify(descricao ? { valor, descricao } : { valor }),
    })
    if (answer.status !== 201) return showMovementResult(false, failure(answer))
    const { movimento } = answer.body as MovementResult
    const kind = movimento.valor > 0 ? 'credit' : 'debit'
    showMovementResult(
      true,
      `✓ ${kind} of ${money.format(Math.abs(movimento.valor))}: ${movimento.cliente_id} = ${money.format(movimento.saldo)}, applied`,
      answer.headers.get('x-saldo-position'),
    )
    // Applied here before the answer: the listing has it now, whenever /events tells.
    await refreshMovements()
  } catch (error) {
    showMovementResult(false, (error as Error).message)
  } finally {
    send.disabled = false
  }
}

// ---- Writes --------------------------------------------------------------------------------------

const writeForm = byId<HTMLFormElement>('write')
const writeResult = byId('write-result')

/** A write's answer in `element`: what happened and, when it was applied, the position it reached. */
function showResult(element: HTMLElement, ok: boolean, text: string, position?: string | null): void {
  element.replaceChildren(text)
  if (position) {
    const at = document.createElement('span')
    at.className = 'position'
    at.textContent = position
    element.append(' at position ', at)
  }
  element.className = `result ${ok ? 'ok' : 'bad'}`
  element.hidden = false
}

function showWriteResult(ok: boolean, text: string, position?: string): void {
  showResult(writeResult, ok, text, position)
}

async function write(method: 'PUT' | 'DELETE'): Promise<void> {
  const id = byId<HTMLInputElement>('write-id').value.trim()
  const saldoText = byId<HTMLInputElement>('write-saldo').value
  if (!id) return showWriteResult(false, 'Enter the cliente_id to write.')
  if (method === 'PUT' && saldoText === '') return showWriteResult(false, 'Enter the new saldo.')
  const buttons = writeForm.querySelectorAll('button')
  buttons.forEach((button) => {
    button.disabled = true
  })
  try {
    const path = `saldo/${encodeURIComponent(id)}`
    const answer =
      method === 'PUT'
        ? await request(path, {
            method,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ saldo: Number(saldoText) }),
          })
        : await request(path, { method })
    if (answer.status !== 200) {
      const { position } = answer.body as Partial<ErrorBody>
      return showWriteResult(false, failure(answer), position)
    }
    if (method === 'PUT') {
      const { balance, position } = answer.body as WriteResult
      showWriteResult(true, `✓ ${balance.cliente_id} = ${money.format(balance.saldo)}, applied`, position)
    } else {
      const { deleted, position } = answer.body as DeleteResult
      showWriteResult(true, `✓ ${deleted} deleted, applied`, position)
    }
  } catch (error) {
    showWriteResult(false, (error as Error).message)
  } finally {
    buttons.forEach((button) => {
      button.disabled = false
    })
  }
}

/** The forms that write show once a token is entered; without one, a sentence says so. */
function showWriteForm(): void {
  writeForm.hidden = !token()
  byId('write-locked').hidden = Boolean(token())
  movementForm.hidden = !token()
  byId('movement-locked').hidden = Boolean(token())
}

// ---- Wiring --------------------------------------------------------------------------------------

tokenInput.addEventListener('input', () => {
  if (token()) sessionStorage.setItem(TOKEN_KEY, token())
  else sessionStorage.removeItem(TOKEN_KEY)
  showWriteForm()
})
tokenInput.addEventListener('change', () => {
  void refreshStats()
  void follow()
})

byId<HTMLFormElement>('lookup').addEventListener('submit', (event) => {
  event.preventDefault()
  lookup(byId<HTMLInputElement>('lookup-ids').value).catch((error: Error) => {
    byId('lookup-table').hidden = true
    show(byId('lookup-error'), error.message)
  })
})
writeForm.addEventListener('submit', (event) => {
  event.preventDefault()
  void write('PUT')
})
byId('write-delete').addEventListener('click', () => void write('DELETE'))
movementForm.addEventListener('submit', (event) => {
  event.preventDefault()
  void sendMovement()
})

showWriteForm()
void follow()
void refresh()
