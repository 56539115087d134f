import { assert, describe, layer } from "@effect/vitest"
import { Effect, type Layer } from "effect"
import { type Bucket, RateLimitStore } from "../access/ports/RateLimitStore.ts"

const uniqueKey = (label: string) => `${label}:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`

const hits = (bucket: Bucket, count: number, now: number, concurrency: number | "unbounded" = 1) =>
  RateLimitStore.use((store) =>
    Effect.forEach(
      Array.from({ length: count }, () => bucket),
      (b) => store.hit(b, now),
      { concurrency }
    )
  )

/**
 * The `RateLimitStore` contract, registered as vitest tests against the store `layer` provides.
 *
 * Tests pass the wall clock as `now` and let real time pass where time matters, so the suite also
 * holds for stores that read their own clock (Redis `TIME`, a Durable Object): their clock only
 * has to agree with this process's within the few milliseconds a burst takes. Windows are long
 * (a refill interval of seconds) wherever a test needs time to stand still.
 */
export const rateLimitStoreSuite = <E>(name: string, storeLayer: Layer.Layer<RateLimitStore, E>): void => {
  layer(storeLayer, { excludeTestServices: true, timeout: "60 seconds" })(
    `RateLimitStore conformance: ${name}`,
    (it) => {
      describe("a burst", () => {
        it.effect("allows exactly `limit` requests, counting `remaining` down to 0, then refuses", () =>
          Effect.gen(function* () {
            const bucket: Bucket = { key: uniqueKey("burst"), limit: 5, windowMs: 60_000 }
            const now = Date.now()
            const decisions = yield* hits(bucket, 6, now)
            assert.deepStrictEqual(
              decisions.map((d) => [d.allowed, d.remaining, d.limit, d.retryAfterMs]),
              [
                [true, 4, 5, 0],
                [true, 3, 5, 0],
                [true, 2, 5, 0],
                [true, 1, 5, 0],
                [true, 0, 5, 0],
                [false, 0, 5, decisions[5]!.retryAfterMs]
              ]
            )
            const refused = decisions[5]!
            // The next slot frees up one interval (window / limit) after the burst began.
            assert.isAbove(refused.retryAfterMs, 0)
            assert.isAtMost(refused.retryAfterMs, 12_000)
            assert.isAbove(refused.retryAfterMs, 12_000 - 1_000)
            // Full again one window after the burst: the last allowed request's slot drains last.
            for (const decision of decisions) {
              assert.isAtLeast(decision.resetAt, now)
              assert.isAtMost(decision.resetAt, now + 60_000 + 1_000)
            }
            assert.isAtLeast(decisions[4]!.resetAt, now + 60_000 - 1_000)
          })
        )

        it.effect("keeps buckets independent", () =>
          Effect.gen(function* () {
            const now = Date.now()
            const a: Bucket = { key: uniqueKey("a"), limit: 3, windowMs: 60_000 }
            const b: Bucket = { key: uniqueKey("b"), limit: 3, windowMs: 60_000 }
            const first = yield* hits(a, 4, now)
            assert.deepStrictEqual(
              first.map((d) => d.allowed),
              [true, true, true, false]
            )
            const second = yield* hits(b, 4, now)
            assert.deepStrictEqual(
              second.map((d) => [d.allowed, d.remaining]),
              [
                [true, 2],
                [true, 1],
                [true, 0],
                [false, 0]
              ]
            )
          })
        )
      })

      describe("refill", () => {
        it.effect("allows one more request once `windowMs / limit` has passed, and only one", () =>
          Effect.gen(function* () {
            // An interval of 2 s: long enough that the burst, and the two requests after the wait, each
            // fit in one even on a loaded machine (a Durable Object's round trips there took over 400 ms
            // and broke a 500 ms interval), short enough to wait for.
            const bucket: Bucket = { key: uniqueKey("refill"), limit: 2, windowMs: 4_000 }
            const burst = yield* hits(bucket, 3, Date.now())
            assert.deepStrictEqual(
              burst.map((d) => d.allowed),
              [true, true, false]
            )
            const wait = burst[2]!.retryAfterMs
            assert.isAbove(wait, 0)
            assert.isAtMost(wait, 2_000)
            yield* Effect.sleep(wait + 40)
            const after = yield* hits(bucket, 2, Date.now())
            assert.deepStrictEqual(
              after.map((d) => [d.allowed, d.remaining]),
              [
                [true, 0],
                [false, 0]
              ]
            )
          })
        )
      })

      describe("concurrency", () => {
        it.effect("allows exactly 100 of 300 concurrent requests against a limit of 100", () =>
          Effect.gen(function* () {
            const bucket: Bucket = { key: uniqueKey("concurrent"), limit: 100, windowMs: 3_600_000 }
            const decisions = yield* hits(bucket, 300, Date.now(), "unbounded")
            assert.strictEqual(decisions.filter((d) => d.allowed).length, 100)
            const remaining = decisions.filter((d) => d.allowed).map((d) => d.remaining)
            // Each allowed request saw a different count: no two read the same state.
            assert.deepStrictEqual(
              remaining.slice().sort((x, y) => x - y),
              Array.from({ length: 100 }, (_, i) => i)
            )
            for (const refused of decisions.filter((d) => !d.allowed)) assert.isAbove(refused.retryAfterMs, 0)
          })
        )
      })
    }
  )
}
