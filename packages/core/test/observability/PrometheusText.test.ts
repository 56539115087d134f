import { Effect } from "effect"
import { getMetricsFromIterator } from "prom2javascript"
import { describe, expect, it } from "vitest"
import { Registry } from "../../src/observability/Metrics.ts"
import * as PrometheusText from "../../src/observability/PrometheusText.ts"

const parse = (text: string) => getMetricsFromIterator(text.split("\n")[Symbol.iterator]())

describe("the Prometheus text renderer", () => {
  it("renders counters, gauges and histograms that a real parser reads back", async () => {
    const registry = new Registry()
    const counter = registry.counter("things_total", { help: 'Things, with "quotes"\nand a newline', labels: ["kind"] })
    counter.inc(["a"])
    counter.inc(["a"], 2)
    counter.inc(['we"ird\\value\n'])
    const histogram = registry.histogram("wait_seconds", { help: "Waits", labels: ["route"], buckets: [0.1, 1] })
    for (const value of [0.05, 0.1, 0.5, 3]) histogram.observe(["/x"], value)
    let reads = 0
    const gauge = registry.gauge("level", { help: "A level" })
    registry.onScrape(Effect.sync(() => gauge.set([], ++reads)))

    const metrics = await parse(await Effect.runPromise(PrometheusText.render(registry)))
    expect(metrics.things_total).toMatchObject({
      type: "counter",
      data: [
        { labels: { kind: "a" }, value: 3 },
        { labels: { kind: 'we"ird\\value\n' }, value: 1 }
      ]
    })
    // Buckets are cumulative; +Inf holds every observation.
    expect(metrics.wait_seconds?.data).toEqual([
      { labels: { route: "/x" }, buckets: { "0.1": 2, "1": 3, "+Inf": 4 }, count: 4, sum: 3.65 }
    ])
    expect(metrics.level?.data).toEqual([{ labels: {}, value: 1 }])
  })

  it("folds label sets beyond a metric's bound into one overflow series", async () => {
    const registry = new Registry()
    const counter = registry.counter("bounded_total", { help: "Bounded", labels: ["name"], maxSeries: 3 })
    for (let i = 0; i < 1_000; i++) counter.inc([`name-${i}`])
    const metrics = await parse(PrometheusText.renderNow(registry))
    const data = metrics.bounded_total!.data as ReadonlyArray<{ labels: Record<string, string>; value: number }>
    expect(data).toHaveLength(4)
    expect(data.find((sample) => sample.labels.name === "_overflow")?.value).toBe(997)
  })

  it("defines a metric once: a second definition under the same name is the first", () => {
    const registry = new Registry()
    const first = registry.counter("once_total", { help: "Once" })
    expect(registry.counter("once_total", { help: "Again" })).toBe(first)
  })
})
