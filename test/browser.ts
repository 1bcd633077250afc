import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { onCleanup } from './setup.ts'

/** Debian's Chromium (scripts/test.sh installs it); Playwright never downloads a browser here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Screenshots a browser test leaves to look at (gitignored). */
const TEST_RESULTS = join(import.meta.dir, '../test-results')
/** The screenshots the README shows: refreshed by a run with UPDATE_SCREENSHOTS=1. */
const README_SCREENSHOTS = join(import.meta.dir, 'screenshots')

/** Nothing that reaches out on its own: updates, sync, field trials, QUIC probes. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
]

/** A headless Chromium with a fresh profile, closed after the test. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (scripts/test.sh does it)`)
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  onCleanup(() => browser.close())
  mkdirSync(TEST_RESULTS, { recursive: true })
  return browser
}

/**
 * Saves what `page` shows as test-results/<name>.png; with `readme`, and UPDATE_SCREENSHOTS=1 in the
 * environment, also as test/screenshots/<name>.png, the picture the README shows.
 */
export async function saveScreenshot(
  page: Page,
  name: string,
  { readme = false, fullPage = true, settled = false } = {},
) {
  // settled: animations and transitions shown at their end, as they will be in a moment.
  const animations = settled ? 'disabled' : 'allow'
  const picture = await page.screenshot({ path: join(TEST_RESULTS, `${name}.png`), fullPage, animations })
  if (readme && process.env.UPDATE_SCREENSHOTS === '1') {
    mkdirSync(README_SCREENSHOTS, { recursive: true })
    await Bun.write(join(README_SCREENSHOTS, `${name}.png`), picture)
  }
}
