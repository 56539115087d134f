import { getMetricsFromIterator, type PromHistogramData, type PromLabels, type PromMetrics } from "prom2javascript"

/** Text in the Prometheus exposition format, parsed by a real parser (which refuses malformed lines). */
export const parse = (text: string): Promise<PromMetrics> => getMetricsFromIterator(text.split("\n")[Symbol.iterator]())

const matches = (labels: PromLabels, wanted: Record<string, string>) =>
  Object.entries(wanted).every(([key, value]) => labels[key] === value)

/** A scrape of `url`, parsed, with lookups by metric name and labels. */
export const scrape = async (url: string) => {
  const response = await fetch(url)
  if (response.status !== 200) throw new Error(`scrape answered ${response.status}`)
  const metrics = await parse(await response.text())
  const samples = (name: string) => (metrics[name]?.data ?? []) as ReadonlyArray<{ labels: PromLabels }>
  return {
    contentType: response.headers.get("content-type"),
    metrics,
    type: (name: string) => metrics[name]?.type,
    /** The value of the sample of `name` whose labels include `labels`; 0 when none. */
    value: (name: string, labels: Record<string, string> = {}) =>
      (samples(name).find((sample) => matches(sample.labels, labels)) as { value?: number } | undefined)?.value ?? 0,
    /** Every label set of `name`. */
    labelSets: (name: string) => samples(name).map((sample) => sample.labels),
    histogram: (name: string, labels: Record<string, string> = {}) =>
      samples(name).find((sample) => matches(sample.labels, labels)) as PromHistogramData | undefined,
    /** The series of the metrics named with `prefix` (a histogram counts once per label set). */
    seriesCount: (prefix: string) =>
      Object.entries(metrics)
        .filter(([name]) => name.startsWith(prefix))
        .reduce((total, [, metric]) => total + metric.data.length, 0)
  }
}

/** The metrics listener's URL, from the line a gateway logs when it starts it. */
export const metricsUrlOf = (logs: ReadonlyArray<Record<string, unknown>>): string | undefined => {
  const line = logs.find((entry) => String(entry.msg).startsWith("Metrics on "))
  return line === undefined ? undefined : String(line.msg).slice("Metrics on ".length)
}
