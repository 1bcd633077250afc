/**
 * Prometheus' text exposition format (version 0.0.4), written by hand: a few families of plain
 * numbers need no client library. See https://prometheus.io/docs/instrumenting/exposition_formats/
 */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export type MetricType = 'counter' | 'gauge' | 'histogram'
export type Labels = Readonly<Record<string, string>>

export interface Sample {
  /** Appended to the family's name: a histogram's `_bucket`, `_sum` and `_count`. */
  readonly suffix?: '_bucket' | '_sum' | '_count'
  readonly labels?: Labels
  readonly value: number
}

export interface MetricFamily {
  readonly name: string
  readonly help: string
  readonly type: MetricType
  readonly samples: readonly Sample[]
}

/** Anything that can say what it measures right now; /metrics asks each source once per scrape. */
export type MetricSource = () => readonly MetricFamily[]

const single = (value: number | readonly Sample[]): readonly Sample[] =>
  typeof value === 'number' ? [{ value }] : value

export const gauge = (name: string, help: string, value: number | readonly Sample[]): MetricFamily => ({
  name,
  help,
  type: 'gauge',
  samples: single(value),
})

export const counter = (name: string, help: string, value: number | readonly Sample[]): MetricFamily => ({
  name,
  help,
  type: 'counter',
  samples: single(value),
})

const escapeHelp = (text: string) => text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')
const escapeLabel = (text: string) =>
  text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(value)
}

function formatLabels(labels: Labels | undefined): string {
  if (!labels) return ''
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabel(value)}"`)
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`
}

/** The families as one text document: HELP and TYPE lines, then one line per sample. */
export function renderMetrics(families: readonly MetricFamily[]): string {
  const lines: string[] = []
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`)
    for (const sample of family.samples) {
      lines.push(
        `${family.name}${sample.suffix ?? ''}${formatLabels(sample.labels)} ${formatValue(sample.value)}`,
      )
    }
  }
  return `${lines.join('\n')}\n`
}
