import type { Labels, MetricFamily, Sample } from './prometheus.ts'

/** One series per combination of label values; the key joins the values in the label names' order. */
class Series<L extends string, S> {
  readonly #series = new Map<string, { labels: Labels; state: S }>()

  constructor(
    private readonly labelNames: readonly L[],
    private readonly create: () => S,
  ) {}

  get(labels: Record<L, string>): S {
    const key = this.labelNames.map((name) => labels[name]).join('\u0000')
    let entry = this.#series.get(key)
    if (!entry) {
      entry = { labels: { ...labels }, state: this.create() }
      this.#series.set(key, entry)
    }
    return entry.state
  }

  entries(): IterableIterator<{ labels: Labels; state: S }> {
    return this.#series.values()
  }
}

/** A count that only goes up, kept per label set (e.g. requests by route and status). */
export class Counter<L extends string> {
  readonly #series: Series<L, { value: number }>

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly L[],
  ) {
    this.#series = new Series(labelNames, () => ({ value: 0 }))
  }

  inc(labels: Record<L, string>, by = 1): void {
    this.#series.get(labels).value += by
  }

  /** The series of `labels`, to count into without finding it again (`series.value++`). */
  bind(labels: Record<L, string>): { value: number } {
    return this.#series.get(labels)
  }

  family(): MetricFamily {
    const samples = [...this.#series.entries()].map(({ labels, state }) => ({ labels, value: state.value }))
    return { name: this.name, help: this.help, type: 'counter', samples }
  }
}

/** Observations counted into fixed buckets (upper bounds, ascending), per label set. */
export class Histogram<L extends string> {
  readonly #series: Series<L, { counts: number[]; sum: number; count: number }>

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly L[],
    readonly buckets: readonly number[],
  ) {
    this.#series = new Series(labelNames, () => ({ counts: buckets.map(() => 0), sum: 0, count: 0 }))
  }

  observe(labels: Record<L, string>, value: number): void {
    this.bind(labels)(value)
  }

  /** An observer of the series of `labels`, found once: each call only counts. */
  bind(labels: Record<L, string>): (value: number) => void {
    const series = this.#series.get(labels)
    const { buckets } = this
    return (value) => {
      let bucket = 0
      while (bucket < buckets.length && value > (buckets[bucket] as number)) bucket++
      if (bucket < buckets.length) series.counts[bucket] = (series.counts[bucket] ?? 0) + 1
      series.sum += value
      series.count++
    }
  }

  family(): MetricFamily {
    const samples: Sample[] = []
    for (const { labels, state } of this.#series.entries()) {
      let cumulative = 0
      this.buckets.forEach((upper, i) => {
        cumulative += state.counts[i] ?? 0
        samples.push({ suffix: '_bucket', labels: { ...labels, le: String(upper) }, value: cumulative })
      })
      samples.push({ suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: state.count })
      samples.push({ suffix: '_sum', labels, value: state.sum })
      samples.push({ suffix: '_count', labels, value: state.count })
    }
    return { name: this.name, help: this.help, type: 'histogram', samples }
  }
}
