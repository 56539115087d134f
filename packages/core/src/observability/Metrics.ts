import { Context, Effect } from "effect"

/**
 * The gateway's metrics: counters, gauges and histograms kept as plain numbers in maps keyed by
 * their label values, so recording costs a map lookup and an addition. Label sets are bounded
 * twice over: callers pass only values from closed sets (route templates, reasons, provider
 * names), and each metric folds every label set beyond `maxSeries` into one `overflow` series, so
 * no client input can grow the scrape without limit.
 */

/** The label value of the series that takes every label set beyond a metric's `maxSeries`. */
export const overflow = "_overflow"

/** Series per metric unless the metric says otherwise: far above any honest label set. */
export const defaultMaxSeries = 500

interface Definition {
  readonly name: string
  readonly help: string
  readonly labelNames: ReadonlyArray<string>
  readonly maxSeries: number
}

// Label values joined with a separator that cannot appear in a bounded value.
const keyOf = (values: ReadonlyArray<string>) => (values.length === 1 ? values[0]! : values.join("\u0001"))

abstract class Family<S> {
  readonly series = new Map<string, { readonly labels: ReadonlyArray<string>; readonly value: S }>()
  readonly definition: Definition
  constructor(definition: Definition) {
    this.definition = definition
  }
  protected abstract fresh(): S
  protected seriesOf(labels: ReadonlyArray<string>): S {
    const key = keyOf(labels)
    const found = this.series.get(key)
    if (found !== undefined) return found.value
    if (this.series.size >= this.definition.maxSeries) return this.overflowSeries()
    return this.create(key, labels)
  }
  // The one series past the bound, created when the bound is first reached.
  private overflowSeries(): S {
    const labels = this.definition.labelNames.map(() => overflow)
    const key = keyOf(labels)
    return this.series.get(key)?.value ?? this.create(key, labels)
  }
  private create(key: string, labels: ReadonlyArray<string>): S {
    const value = this.fresh()
    this.series.set(key, { labels: [...labels], value })
    return value
  }
}

/** A number that only goes up (requests, failures, tokens). */
export class Counter extends Family<{ total: number }> {
  readonly type = "counter"
  protected fresh() {
    return { total: 0 }
  }
  inc(labels: ReadonlyArray<string>, by = 1): void {
    this.seriesOf(labels).total += by
  }
}

/** A number read as it is now (memory, circuit state, age of the last sync). */
export class Gauge extends Family<{ total: number }> {
  readonly type = "gauge"
  protected fresh() {
    return { total: 0 }
  }
  set(labels: ReadonlyArray<string>, value: number): void {
    this.seriesOf(labels).total = value
  }
}

export interface HistogramSeries {
  /** Observations per bucket (not cumulative); the last slot is above the largest bound. */
  readonly counts: Float64Array
  sum: number
  count: number
}

/** Observations (durations, latencies) counted into fixed buckets. */
export class Histogram extends Family<HistogramSeries> {
  readonly type = "histogram"
  /** Upper bounds, ascending, in the metric's unit. */
  readonly bounds: ReadonlyArray<number>
  constructor(definition: Definition, bounds: ReadonlyArray<number>) {
    super(definition)
    this.bounds = bounds
  }
  protected fresh(): HistogramSeries {
    return { counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 }
  }
  observe(labels: ReadonlyArray<string>, value: number): void {
    const series = this.seriesOf(labels)
    const bounds = this.bounds
    let index = 0
    while (index < bounds.length && value > bounds[index]!) index++
    series.counts[index]! += 1
    series.sum += value
    series.count += 1
  }
}

export type Metric = Counter | Gauge | Histogram

/** Seconds, from a millisecond to a minute: request and upstream latencies. */
export const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export interface MetricOptions {
  readonly help: string
  readonly labels?: ReadonlyArray<string> | undefined
  readonly maxSeries?: number | undefined
}

/** Every metric of one gateway, and the readings taken when it is scraped. */
export class Registry {
  readonly metrics = new Map<string, Metric>()
  private readonly readings: Array<Effect.Effect<void>> = []

  counter(name: string, options: MetricOptions): Counter {
    return this.register(name, options, (definition) => new Counter(definition))
  }

  gauge(name: string, options: MetricOptions): Gauge {
    return this.register(name, options, (definition) => new Gauge(definition))
  }

  histogram(name: string, options: MetricOptions & { readonly buckets: ReadonlyArray<number> }): Histogram {
    return this.register(name, options, (definition) => new Histogram(definition, options.buckets))
  }

  // A metric defined twice (two routers in one process) is the same metric.
  private register<M extends Metric>(name: string, options: MetricOptions, make: (definition: Definition) => M): M {
    const existing = this.metrics.get(name)
    if (existing !== undefined) return existing as M
    const metric = make({
      name,
      help: options.help,
      labelNames: options.labels ?? [],
      maxSeries: options.maxSeries ?? defaultMaxSeries
    })
    this.metrics.set(name, metric)
    return metric
  }

  /** Runs `reading` before every scrape, to set gauges from state kept elsewhere. */
  onScrape(reading: Effect.Effect<void>): void {
    this.readings.push(reading)
  }

  /** Takes the scrape-time readings; a reading that fails leaves its gauges as they were. */
  readonly read: Effect.Effect<void> = Effect.suspend(() =>
    Effect.forEach(this.readings, (reading) => Effect.ignore(reading), { discard: true, concurrency: "unbounded" })
  )
}

/**
 * The gateway's metrics registry; `undefined` (the default) when metrics are off, in which case
 * nothing is recorded and nothing costs anything.
 */
export const Metrics = Context.Reference<Registry | undefined>("@lunarbit/gateway-core/Metrics", {
  defaultValue: () => undefined
})
