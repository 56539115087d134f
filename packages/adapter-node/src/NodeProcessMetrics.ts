import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks"
import type { Metrics } from "@lunarbit/gateway-core"
import { Effect } from "effect"

const gcKinds: Record<number, string> = { 1: "minor", 2: "major", 4: "incremental", 8: "weakcb" }

/**
 * The process's own figures, read when scraped: resident and heap memory, event-loop lag (mean and
 * p99 since the last scrape) and garbage-collection pauses by kind. The lag monitor and the GC
 * observer stop with the scope.
 */
export const register = (registry: Metrics.Registry) =>
  Effect.gen(function* () {
    const rss = registry.gauge("process_resident_memory_bytes", { help: "Resident set size of the process" })
    const heap = registry.gauge("nodejs_heap_used_bytes", { help: "V8 heap in use" })
    const lag = registry.gauge("nodejs_eventloop_lag_seconds", {
      help: "Event-loop delay since the previous scrape, by statistic (mean, p99, max)",
      labels: ["stat"]
    })
    const gc = registry.histogram("nodejs_gc_duration_seconds", {
      help: "Garbage-collection pauses, by kind",
      labels: ["kind"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1]
    })
    const delay = monitorEventLoopDelay({ resolution: 10 })
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = (entry as { detail?: { kind?: number } }).detail?.kind
        gc.observe([gcKinds[kind ?? 0] ?? "other"], entry.duration / 1000)
      }
    })
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        delay.enable()
        observer.observe({ entryTypes: ["gc"] })
      }),
      () =>
        Effect.sync(() => {
          delay.disable()
          observer.disconnect()
        })
    )
    registry.onScrape(
      Effect.sync(() => {
        const memory = process.memoryUsage()
        rss.set([], memory.rss)
        heap.set([], memory.heapUsed)
        // The histogram is in nanoseconds; empty (NaN) until the loop has been sampled.
        const seconds = (nanoseconds: number) => (Number.isFinite(nanoseconds) ? nanoseconds / 1e9 : 0)
        lag.set(["mean"], seconds(delay.mean))
        lag.set(["p99"], seconds(delay.percentile(99)))
        lag.set(["max"], seconds(delay.max))
        delay.reset()
      })
    )
  })
