import { describe, expect, it } from 'bun:test'
import { randomUUID } from 'node:crypto'
import type { Page } from 'playwright-core'
import { CLIENT_NOT_FOUND } from '../../src/http/errors.ts'
import type { ReadyAnswer } from '../../src/http/models.ts'
import { launchBrowser, saveScreenshot } from '../browser.ts'
import {
  balanceRecord,
  createTopic,
  holdPartitions,
  produce,
  type RunningService,
  readiness,
  SASL,
  startService,
  testConfig,
  waitFor,
} from '../helpers.ts'

const TOKEN = 'dashboard-token-0123456789'
const PARTITIONS = 3

/** Opens the dashboard of `service` in a fresh page of its own size; records every request it makes. */
async function openDashboard(service: RunningService, viewport = { width: 1280, height: 900 }) {
  const browser = await launchBrowser()
  const page = await browser.newPage({ viewport, locale: 'en-US' })
  const requests: string[] = []
  const problems: string[] = []
  page.on('request', (request) => requests.push(request.url()))
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`))
  page.on('console', (message) => {
    // A refused script, style or connection would show here; answers like 404 are expected.
    if (message.text().includes('Content Security Policy')) problems.push(message.text())
  })
  await page.goto(`${service.url}/`)
  return { page, requests, problems }
}

/** The visible text of `selector`, or '' while it is missing or hidden. */
async function textOf(page: Page, selector: string): Promise<string> {
  const element = page.locator(selector)
  return (await element.count()) > 0 && (await element.isVisible())
    ? ((await element.textContent()) ?? '')
    : ''
}

function waitForText(page: Page, selector: string, expected: string | RegExp): Promise<string> {
  return waitFor(
    async () => {
      const text = await textOf(page, selector)
      return (typeof expected === 'string' ? text.includes(expected) : expected.test(text)) ? text : undefined
    },
    { what: `${selector} to show ${expected}` },
  )
}

describe('dashboard', () => {
  it('shows the replay, then counters, lookups, live changes and writes, asking nothing from elsewhere', async () => {
    const topic = await createTopic({ partitions: PARTITIONS })
    const clients = Array.from({ length: 60 }, (_, i) => balanceRecord(`c-${i}`, i * 10 - 100))
    await produce(topic, [
      ...clients,
      balanceRecord('1', 150, '2025-10-14T10:30:45'),
      { key: 'bad', value: 'not json' },
    ])
    const settings = { SALDO_API_TOKEN: TOKEN, INSTANCE_ID: `dashboard-${randomUUID().slice(0, 8)}` }
    // The materializer's first consumer group is GROUP-INSTANCE_ID-1.
    const config = testConfig(topic, settings)
    const holder = await holdPartitions(topic, `${config.GROUP}-${config.INSTANCE_ID}-1`)
    const service = startService(topic, settings)
    const { page, requests, problems } = await openDashboard(service)

    // Replaying: a bar per partition; those held elsewhere stay behind.
    await waitForText(page, '#status', 'replaying')
    expect(await page.locator('#partitions li').count()).toBe(PARTITIONS)
    await waitFor(
      async () => {
        const behind = await page
          .locator('#partitions li:not(.done)')
          .evaluateAll((rows) => rows.map((row) => Number((row as HTMLElement).dataset.partition)))
        const held = holder.held()
        return held.length < PARTITIONS && behind.join() === held.join()
      },
      { what: 'the partitions given to the service replayed, and only those' },
    )
    const ready = await (await service.get('/ready')).json()
    await waitForText(page, '#replay-remaining', new Intl.NumberFormat('en-US').format(ready.remaining))
    expect(await textOf(page, '#replay-rate')).toMatch(/^[\d,]+$/)
    expect(await textOf(page, '#replay-eta')).toMatch(/\d+ s|–/)
    await saveScreenshot(page, 'dashboard-replaying', { settled: true })

    // Ready once every partition is replayed: the counters of the whole topic.
    await holder.release()
    await waitForText(page, '#status', 'ready')
    expect(await page.locator('#replay').isVisible()).toBe(false)
    const keys = clients.length + 1
    await waitForText(page, '#stat-keys', String(keys))
    await waitForText(page, '#stat-applied', String(keys))
    await waitForText(page, '#stat-rejected', '1')
    expect(await textOf(page, '#stat-rejected-note')).toContain('value not json: 1')
    await waitForText(page, '#stat-lag', '0')
    // The Cluster card, in replica mode: every partition here, its writes' owner this instance alone.
    await waitForText(page, '#cluster-summary', 'Every instance holds every partition')
    await waitFor(async () => (await page.locator('#cluster-rows tr.owned').count()) === PARTITIONS, {
      what: 'every partition owned by the only instance',
    })
    expect(await textOf(page, '#cluster-mode')).toContain('MODE=replica')
    expect(await page.locator('#cluster-table th.standbys').isVisible()).toBe(false)

    // Reads need the token on this server: without it the page says so.
    await page.fill('#lookup-ids', '1')
    await page.click('#lookup button')
    await waitForText(page, '#lookup-error', 'HTTP 401')
    await page.fill('#token', TOKEN)
    await page.click('#lookup button')
    await waitForText(page, '#lookup-rows', '150.00')
    expect(await textOf(page, '#lookup-rows')).toContain('2025-10-14T10:30:45')
    expect(await textOf(page, '#lookup-error')).toBe('')
    await page.fill('#lookup-ids', 'nobody')
    await page.click('#lookup button')
    await waitForText(page, '#lookup-rows', CLIENT_NOT_FOUND)
    await page.fill('#lookup-ids', '1, c-3, nobody')
    await page.click('#lookup button')
    await waitForText(page, '#lookup-rows', '-70.00')
    expect(await page.locator('#lookup-rows tr').count()).toBe(3)
    expect(await textOf(page, '#lookup-rows tr.missing')).toContain(CLIENT_NOT_FOUND)

    // A record produced to Kafka shows in the live table, highlighted; the looked-up row follows it.
    await produce(topic, [balanceRecord('c-3', 1234.5, '2025-10-15T08:00:00')])
    // (The replay's own change of c-3 may be in the table too: the new one comes first.)
    await waitForText(page, '#live-rows tr:first-child', '1,234.50')
    const newest = page.locator('#live-rows tr:first-child')
    expect(await newest.getAttribute('data-id')).toBe('c-3')
    expect(await newest.getAttribute('class')).toContain('flash')
    await waitForText(page, '#lookup-rows', '1,234.50')

    // Writes through the form answer with the position they reached. (Earlier highlights fade first,
    // so that the screenshot shows the write's alone.)
    await page.waitForFunction(() =>
      document.getAnimations().every((a) => (a as CSSAnimation).animationName !== 'flash'),
    )
    await page.fill('#write-id', 'web-1')
    await page.fill('#write-saldo', '42.5')
    await page.click('#write-put')
    const put = await waitForText(page, '#write-result', /at position \d+:\d+/)
    expect(put).toContain('web-1 = 42.50')
    const stored = await service.get('/saldo/web-1', { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(await stored.json()).toMatchObject({ cliente_id: 'web-1', saldo: 42.5 })
    await page.locator('#live-rows tr[data-id="web-1"]').first().waitFor()
    await page.fill('#lookup-ids', '1,c-3,c-7,web-1')
    await page.click('#lookup button')
    await waitForText(page, '#lookup-rows', '42.50')
    await saveScreenshot(page, 'dashboard', { readme: true, fullPage: false })
    await page.click('#write-delete')
    await waitForText(page, '#write-result', /web-1 deleted, applied at position \d+:\d+/)
    expect(
      (await service.get('/saldo/web-1', { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(404)

    // The movements of one looked-up client: none yet, then a credit and a debit through the form,
    // each adding a row and a point of the chart, and moving the looked-up balance (live, from /events).
    await page.fill('#lookup-ids', '1')
    await page.click('#lookup button')
    await waitForText(page, '#movements-title', 'Movements of 1')
    await waitForText(page, '#movements-empty', 'No movement')
    expect(await page.locator('#movements-chart-box').isVisible()).toBe(false)
    const rows = page.locator('#movements-rows tr')
    const dots = page.locator('#movements-chart circle')
    await page.fill('#movement-valor', '25.5')
    await page.fill('#movement-descricao', 'pix')
    await page.press('#movement-descricao', 'Enter')
    await waitForText(page, '#movement-result', /credit of 25\.50: 1 = 175\.50, applied at position \d+:\d+/)
    await waitForText(page, '#lookup-rows', '175.50')
    await waitFor(async () => (await rows.count()) === 1, { what: 'the credit listed' })
    expect(await textOf(page, '#movements-rows')).toContain('pix')
    // The balance before the first movement, then after it.
    expect(await dots.count()).toBe(2)
    await page.fill('#movement-valor', '-40')
    await page.fill('#movement-descricao', '')
    await page.click('#movement-send')
    await waitForText(page, '#movement-result', 'debit of 40.00: 1 = 135.50')
    await waitForText(page, '#lookup-rows', '135.50')
    await waitFor(async () => (await rows.count()) === 2, { what: 'the debit listed' })
    expect(await dots.count()).toBe(3)
    expect(await textOf(page, '#movements-rows tr:first-child')).toContain('-40.00')
    expect(await textOf(page, '#movements-chart-caption')).toContain('from 150.00 to 135.50 over 2 movements')

    // A debit below the floor: the service's own sentence, and nothing written.
    await page.fill('#movement-valor', '-1000')
    await page.click('#movement-send')
    await waitForText(
      page,
      '#movement-result',
      /HTTP 422: the debit would leave a balance of -864\.5, below the floor/,
    )
    expect(await page.locator('#movement-result').getAttribute('class')).toContain('bad')
    expect(await rows.count()).toBe(2)

    // A movement from elsewhere (here, the API) shows too: the page re-reads on the client's change.
    const fromApi = await service.get('/saldo/1/movimentos', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
      },
      body: JSON.stringify({ valor: 14.5, descricao: 'from the API' }),
    })
    expect(fromApi.status).toBe(201)
    await waitFor(async () => (await rows.count()) === 3 && (await dots.count()) === 4, {
      what: 'the movement made elsewhere listed and drawn',
    })
    await waitForText(page, '#movements-rows tr:first-child', 'from the API')
    await page.locator('#movements').scrollIntoViewIfNeeded()
    await saveScreenshot(page, 'dashboard-movements', { readme: true, fullPage: false })

    // Readable on a phone: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 })
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    await saveScreenshot(page, 'dashboard-phone', { readme: true, fullPage: false })
    await saveScreenshot(page, 'dashboard-phone-full')

    expect(problems).toEqual([])
    const elsewhere = requests.filter((url) => !url.startsWith(`${service.url}/`) && !url.startsWith('data:'))
    expect(elsewhere).toEqual([])
    expect(requests.some((url) => url.endsWith('/events'))).toBe(true)
  })

  it('shows the Cluster card of a partitioned instance: every partition, its owner and standbys, and its own', async () => {
    const topic = await createTopic({ partitions: PARTITIONS })
    const settings = { MODE: 'partitioned', STANDBY_REPLICAS: '1' }
    const [a, b] = [startService(topic, settings), startService(topic, settings)]
    // Both ready in one generation whose map names both.
    const [view] = await waitFor(
      async () => {
        const views = await Promise.all([a, b].map(readiness))
        const urls = new Set(views[0]?.ownership.owners.map((o) => o.url))
        const agreed = views.every(
          (v) => v.ready && v.ownership.generation === views[0]?.ownership.generation,
        )
        return agreed && urls.size === 2 && views[0]?.ownership.owners.length === PARTITIONS
          ? views
          : undefined
      },
      { what: 'two partitioned instances to settle' },
    )
    const ownership = (view as ReadyAnswer).ownership
    const { page, problems } = await openDashboard(a)
    await waitFor(async () => (await page.locator('#cluster-rows tr').count()) === PARTITIONS, {
      what: 'a row per partition',
    })
    expect(await textOf(page, '#cluster-mode')).toContain('MODE=partitioned')
    expect(await textOf(page, '#cluster-summary')).toContain(`This instance (${a.url})`)
    for (const owner of ownership.owners) {
      const row = page.locator(`#cluster-rows tr[data-partition="${owner.partition}"]`)
      const cells = await row.locator('td').allTextContents()
      expect(cells[1]).toContain(owner.url)
      expect(cells[2]).toContain(owner.standbys.join(', '))
      const role = ownership.owned.includes(owner.partition)
        ? 'owned'
        : ownership.standbys.includes(owner.partition)
          ? 'standby'
          : ''
      expect((await row.getAttribute('class')) ?? '').toBe(role)
      expect(cells[3]).toBe(
        role === 'owned' ? 'owner' : role === 'standby' ? 'standby copy' : 'asks the owner',
      )
    }
    await page.locator('#cluster').scrollIntoViewIfNeeded()
    await saveScreenshot(page, 'dashboard-cluster', { readme: true, fullPage: false })
    expect(problems).toEqual([])
  })

  it('shows Kafka disconnected with the reason, then the service unreachable, never failing silently', async () => {
    const topic = await createTopic()
    const service = startService(topic, {
      BOOTSTRAP_SERVERS: SASL.bootstrap,
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: SASL.username,
      KAFKA_SASL_PASSWORD: 'definitely-wrong-password',
    })
    const { page, problems } = await openDashboard(service, { width: 390, height: 844 })

    await waitForText(page, '#status', 'Kafka disconnected')
    await waitForText(page, '#banner', 'authentication failed')
    await saveScreenshot(page, 'dashboard-kafka-down')

    await service.stop()
    await waitForText(page, '#status', 'unreachable')
    await waitForText(page, '#banner', 'cannot reach saldo-api')
    await waitForText(page, '#live-status', /reconnecting|disconnected/)
    expect(problems).toEqual([])
  })
})
