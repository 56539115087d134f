import { Effect, Exit, Layer } from "effect"
import { describe, expect, it } from "vitest"
import * as KeyStore from "../../src/access/ports/KeyStore.ts"
import * as RateLimitStore from "../../src/access/ports/RateLimitStore.ts"
import { Metrics, Registry } from "../../src/observability/Metrics.ts"
import * as PrometheusText from "../../src/observability/PrometheusText.ts"
import * as StoreObservation from "../../src/observability/StoreObservation.ts"
import * as DownloadStore from "../../src/releases/ports/DownloadStore.ts"
import * as RolloutStore from "../../src/releases/ports/RolloutStore.ts"

const errorsOf = (registry: Registry, store: string) => {
  const counter = registry.metrics.get("lunarbit_store_errors_total")
  return counter?.type === "counter" ? (counter.series.get(store)?.value.total ?? 0) : 0
}

const counter = (registry: Registry) =>
  registry.counter("lunarbit_store_errors_total", { help: "errors", labels: ["store"] })

describe("StoreObservation", () => {
  it("counts a store's faults, not its answers", async () => {
    const registry = new Registry()
    let broken = false
    const flaky: KeyStore.KeyStoreShape = {
      ...KeyStore.makeMemory(),
      findByHash: () => (broken ? Effect.die(new Error("connection reset")) : Effect.succeed(undefined))
    }
    const keys = StoreObservation.instrument("keys", flaky, { errors: counter(registry), tracing: false })
    expect(await Effect.runPromise(keys.findByHash("a"))).toBeUndefined()
    broken = true
    expect(Exit.isFailure(await Effect.runPromiseExit(keys.findByHash("a")))).toBe(true)
    expect(errorsOf(registry, "keys")).toBe(1)
  })

  it("keeps answers already decided as the same Exits, so the edge reads them without running anything", () => {
    const registry = new Registry()
    const decision: RateLimitStore.Decision = { allowed: true, limit: 10, remaining: 9, resetAt: 100, retryAfterMs: 0 }
    const refused = Exit.fail(new RateLimitStore.StoreUnavailable({ cause: "down" }))
    const decided = Exit.succeed(decision)
    let answer: Exit.Exit<typeof decision, RateLimitStore.StoreUnavailable> = decided
    const memory = RateLimitStore.makeMemory()
    const store: typeof memory = { hit: () => answer, hitSync: memory.hitSync }
    const observed = StoreObservation.instrument("rate_limits", store, { errors: counter(registry), tracing: true })
    const bucket = { key: "ip:1", limit: 10, windowMs: 1_000 }
    expect(observed.hit(bucket, 0)).toBe(decided)
    answer = refused
    expect(observed.hit(bucket, 0)).toBe(refused)
    expect(errorsOf(registry, "rate_limits")).toBe(1)
    // A synchronous member stays synchronous.
    expect(observed.hitSync(bucket, 0).allowed).toBe(true)
  })

  it("leaves the ports untouched when metrics and tracing are both off", async () => {
    const ports = Layer.mergeAll(
      KeyStore.layerMemory(),
      RateLimitStore.layerMemory,
      DownloadStore.layerMemory,
      RolloutStore.layerMemory
    )
    const [plain, observed] = await Effect.runPromise(
      Effect.all([
        Effect.service(RateLimitStore.RateLimitStore).pipe(Effect.provide(ports)),
        Effect.service(RateLimitStore.RateLimitStore).pipe(Effect.provide(StoreObservation.layer(ports)))
      ])
    )
    expect(Object.keys(observed)).toEqual(Object.keys(plain))
    const registry = new Registry()
    const text = await Effect.runPromise(
      Effect.flatMap(Effect.service(KeyStore.KeyStore), (store) => store.list).pipe(
        Effect.provide(StoreObservation.layer(ports)),
        Effect.provideService(Metrics, registry),
        Effect.andThen(PrometheusText.render(registry))
      )
    )
    expect(text).toContain("# TYPE lunarbit_store_errors_total counter")
  })
})
