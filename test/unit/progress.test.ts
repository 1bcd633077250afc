import { describe, expect, it } from 'bun:test'
import { createProgress, progressBar, progressText } from '../../src/cli/progress.ts'

describe('progressText', () => {
  it('gives done/total, percent, rate and ETA', () => {
    expect(progressText(250_000, 1_000_000, 2_000)).toBe(
      '250,000/1,000,000 (25%) · 125,000 records/s · ETA 6s',
    )
  })

  it('says ETA 0s when done and ? before any rate is known', () => {
    expect(progressText(10, 10, 1_000)).toContain('ETA 0s')
    expect(progressText(0, 10, 0)).toContain('ETA ?')
  })
})

describe('progressBar', () => {
  it('fills in proportion', () => {
    expect(progressBar(0, 10)).toBe(`[${'.'.repeat(30)}]`)
    expect(progressBar(5, 10)).toBe(`[${'#'.repeat(15)}${'.'.repeat(15)}]`)
    expect(progressBar(10, 10)).toBe(`[${'#'.repeat(30)}]`)
  })
})

describe('createProgress', () => {
  it('redraws one line in place on a terminal', () => {
    const written: string[] = []
    const progress = createProgress(100, { isTTY: true, write: (text) => written.push(text) })
    progress.update(100)
    progress.finish()
    const last = written.at(-1) ?? ''
    expect(last.startsWith('\r\x1b[K[')).toBe(true)
    expect(last).toContain('100/100 (100%)')
    expect(last.endsWith('\n')).toBe(true)
  })

  it('writes plain lines elsewhere, without carriage returns', () => {
    const written: string[] = []
    const progress = createProgress(100, { isTTY: false, write: (text) => written.push(text) }, 0)
    progress.update(40)
    progress.finish()
    expect(written).toHaveLength(2)
    expect(written[0]).toStartWith('progress: 40/100 (40%)')
    expect(written.join('')).not.toContain('\r')
  })
})
