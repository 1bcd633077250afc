import { describe, expect, it } from 'bun:test'
import { createHash } from 'node:crypto'
import { setup } from './app-fixture.ts'

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`

describe('GET /', () => {
  it('serves the dashboard as one page whose script and style alone the browser may run', async () => {
    const res = await setup().get('/')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const html = await res.text()
    const script = /<script type="module">([\s\S]*?)<\/script>/.exec(html)?.[1]
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1]
    expect(script).toContain('fetch("events"')
    expect(style).toContain('@keyframes flash')

    const policy = res.headers.get('content-security-policy') ?? ''
    expect(policy).toContain("default-src 'none'")
    expect(policy).toContain(`script-src ${sha256(script ?? '')}`)
    expect(policy).toContain(`style-src ${sha256(style ?? '')}`)
    expect(policy).toContain("connect-src 'self'")
    expect(policy).not.toContain('unsafe')
  })

  it('loads nothing from elsewhere: no absolute URL, only relative links and data: URLs', async () => {
    const html = await (await setup().get('/')).text()
    expect(html).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i)
    const links = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((match) => match[1])
    expect(links.length).toBeGreaterThan(0)
    for (const link of links) expect(link).toMatch(/^(data:|[a-z][a-z.]*$)/)
    // Types only: the script is not bundled, so an import would fail in the browser. Its helpers
    // (chart.ts) are in the same script instead, without their exports.
    expect(html).not.toMatch(/^\s*(import|export)\b/m)
    expect(html).toContain('function balanceChart(')
  })
})
