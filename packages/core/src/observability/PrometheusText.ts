import { Effect } from "effect"
import type { Histogram, Metric, Registry } from "./Metrics.ts"

/** The content type of the Prometheus text exposition format, version 0.0.4. */
export const contentType = "text/plain; version=0.0.4; charset=utf-8"

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')
const escapeHelp = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")

const number = (value: number) =>
  Number.isNaN(value) ? "NaN" : value === Infinity ? "+Inf" : value === -Infinity ? "-Inf" : String(value)

const labelText = (names: ReadonlyArray<string>, values: ReadonlyArray<string>, extra?: string) => {
  const pairs = names.map((name, index) => `${name}="${escapeLabel(values[index] ?? "")}"`)
  if (extra !== undefined) pairs.push(extra)
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`
}

const histogramLines = (metric: Histogram, lines: Array<string>) => {
  const { name, labelNames } = metric.definition
  for (const { labels, value } of metric.series.values()) {
    let cumulative = 0
    metric.bounds.forEach((bound, index) => {
      cumulative += value.counts[index]!
      lines.push(`${name}_bucket${labelText(labelNames, labels, `le="${number(bound)}"`)} ${cumulative}`)
    })
    lines.push(`${name}_bucket${labelText(labelNames, labels, 'le="+Inf"')} ${value.count}`)
    lines.push(`${name}_sum${labelText(labelNames, labels)} ${number(value.sum)}`)
    lines.push(`${name}_count${labelText(labelNames, labels)} ${value.count}`)
  }
}

const metricLines = (metric: Metric, lines: Array<string>) => {
  const { name, help, labelNames } = metric.definition
  lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${metric.type}`)
  if (metric.type === "histogram") return histogramLines(metric, lines)
  for (const { labels, value } of metric.series.values()) {
    lines.push(`${name}${labelText(labelNames, labels)} ${number(value.total)}`)
  }
}

/** Renders every metric of `registry` as it is now, without the scrape-time readings. */
export const renderNow = (registry: Registry): string => {
  const lines: Array<string> = []
  for (const metric of registry.metrics.values()) metricLines(metric, lines)
  return `${lines.join("\n")}\n`
}

/** Takes the scrape-time readings, then renders every metric in the text exposition format. */
export const render = (registry: Registry): Effect.Effect<string> =>
  Effect.map(registry.read, () => renderNow(registry))
