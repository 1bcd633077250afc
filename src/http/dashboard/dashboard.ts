// The dashboard's script. It runs in the browser: src/http/routes/dashboard.ts strips its types and
// inlines it into the page, unbundled, so it may import types only (they come from the server's own
// schemas) and nothing else. Every text from the service goes into the page as text, never as HTML.
import type { Balance } from '../../balance.ts'
import type { BalanceChanged, BalanceDeleted, StreamError, StreamReset } from '../../events/models.ts'
import type { ReadyBody } from '../../kafka/readiness.ts'
import type { Summary } from '../../kafka/summary.ts'
import type { BalancesBody, DeleteResult, ErrorBody, WriteResult } from '../models.ts'

/** How often /ready and /stats are asked. */
const REFRESH_MS = 1000
/** Rows kept in the table of latest changes. */
const LIVE_ROWS = 50
/** The contract's text for an unknown client, shown for each id /saldos reports missing. */
const CLIENT_NOT_FOUND = 'cliente não encontrado'
const TOKEN_KEY = 'saldo.token'

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
  const ready = answer.body as ReadyBody
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
  byId('stat-keys').textContent = integer.format(ready.keys)
  byId('stat-keys-note').textContent = ready.ready ? 'with a balance' : 'so far, while replaying'
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

// ---- Writes --------------------------------------------------------------------------------------

const writeForm = byId<HTMLFormElement>('write')
const writeResult = byId('write-result')

function showWriteResult(ok: boolean, text: string, position?: string): void {
  writeResult.replaceChildren(text)
  if (position) {
    const at = document.createElement('span')
    at.className = 'position'
    at.textContent = position
    writeResult.append(' at position ', at)
  }
  writeResult.className = `result ${ok ? 'ok' : 'bad'}`
  writeResult.hidden = false
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

function showWriteForm(): void {
  writeForm.hidden = !token()
  byId('write-locked').hidden = Boolean(token())
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

showWriteForm()
void follow()
void refresh()
