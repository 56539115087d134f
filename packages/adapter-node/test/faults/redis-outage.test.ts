import { RateLimitStore } from "@lunarbit/gateway-core"
import { Effect, Exit } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as RedisRateLimitStore from "../../src/RedisRateLimitStore.ts"
import { auth, type RunningGateway, startGateway } from "../support/gateway.ts"
import { waitFor } from "../support/process.ts"
import { type InterruptibleServer, interruptibleRedis } from "../support/services.ts"

const timed = async (url: string, headers: Record<string, string> = auth) => {
  const started = Date.now()
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(5_000) })
  return { response, ms: Date.now() - started, body: (await response.json()) as any }
}

const outageLines = (gateway: RunningGateway, text: string) =>
  gateway.logs.filter((line) => String(line.msg ?? "").includes(text)).length

describe("a Redis outage under the rate limiter", () => {
  let redis: InterruptibleServer
  let open: RunningGateway
  let closed: RunningGateway
  beforeAll(async () => {
    redis = await interruptibleRedis()
    ;[open, closed] = await Promise.all([
      startGateway({ REDIS_URL: redis.url, RATE_LIMIT_KEY_MAX: "1000" }),
      startGateway({ REDIS_URL: redis.url, RATE_LIMIT_ON_STORE_FAILURE: "closed", RATE_LIMIT_KEY_MAX: "1000" })
    ])
  }, 60_000)
  afterAll(async () => {
    await Promise.all([open?.close(), closed?.close()])
    await redis?.close()
  })

  it("keeps answering in the envelope, bounded by local buckets, logs once, and recovers by itself", async () => {
    expect((await timed(open.url("/projects"))).response.status).toBe(200)
    await redis.pause()

    // Policy `open`: every request is still answered quickly, with the security headers and an id.
    for (let i = 0; i < 20; i++) {
      const { response, ms } = await timed(open.url("/projects"))
      expect(response.status).toBe(200)
      expect(response.headers.get("x-request-id")).toMatch(/^req_/)
      expect(response.headers.get("x-content-type-options")).toBe("nosniff")
      expect(response.headers.get("ratelimit-policy")).toContain('"key";q=1000')
      expect(ms).toBeLessThan(2_000)
    }
    const health = await timed(open.url("/health"), {})
    expect(health.response.status).toBe(200)
    expect(health.body.status).toBe("degraded")
    expect(health.body.stores.rate_limits).toBe("degraded")
    expect(outageLines(open, "Rate-limit store unreachable")).toBe(1)

    // Policy `closed`: a 503 in the envelope with Retry-After, never a 500.
    const refused = await timed(closed.url("/projects"))
    expect(refused.response.status).toBe(503)
    expect(refused.body.error.code).toBe("SERVICE_UNAVAILABLE")
    expect(refused.response.headers.get("retry-after")).toBe("1")
    // The probes are never limited, so they answer whatever the policy.
    expect((await timed(closed.url("/health/live"), {})).response.status).toBe(200)
    const ready = await timed(closed.url("/health/ready"), {})
    expect(ready.response.status).toBe(503)
    expect(ready.body.error.details.checks.rate_limits).toBe("unavailable")

    await redis.resume()
    await waitFor(async () => (await timed(closed.url("/projects"))).response.status === 200, 15_000)
    await waitFor(async () => {
      await timed(open.url("/projects"))
      return (await timed(open.url("/health"), {})).body.stores.rate_limits === "ok"
    }, 15_000)
    expect(outageLines(open, "Rate-limit store reachable again")).toBe(1)
    expect(outageLines(open, "Rate-limit store unreachable")).toBe(1)
    expect((await timed(open.url("/health/ready"), {})).response.status).toBe(200)
  }, 90_000)

  it("still bounds abuse while Redis is down: the local bucket refuses past the limit", async () => {
    const limited = await startGateway({ REDIS_URL: redis.url, RATE_LIMIT_UNAUTHENTICATED_MAX: "5" })
    try {
      await redis.pause()
      const statuses: Array<number> = []
      for (let i = 0; i < 8; i++) statuses.push((await timed(limited.url("/projects"), {})).response.status)
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429])
    } finally {
      await redis.resume()
      await limited.close()
    }
  }, 60_000)
})

describe("RedisRateLimitStore while Redis is down", () => {
  it("fails with a typed StoreUnavailable within a second, and decides again once Redis is back", async () => {
    const redis = await interruptibleRedis()
    try {
      const bucket = { key: "typed-failure", limit: 10, windowMs: 60_000 }
      const run = (effect: Effect.Effect<RateLimitStore.Decision, RateLimitStore.StoreUnavailable>) =>
        Effect.runPromise(Effect.exit(effect))
      await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const store = yield* Effect.service(RateLimitStore.RateLimitStore)
            expect(Exit.isSuccess(yield* Effect.promise(() => run(store.hit(bucket, Date.now()))))).toBe(true)
            yield* Effect.promise(() => redis.pause())
            const started = Date.now()
            const failed = yield* Effect.promise(() => run(store.hit(bucket, Date.now())))
            expect(Date.now() - started).toBeLessThan(1_500)
            expect(Exit.isFailure(failed) && Exit.findErrorOption(failed)._tag === "Some").toBe(true)
            yield* Effect.promise(() => redis.resume())
            yield* Effect.promise(() =>
              waitFor(async () => Exit.isSuccess(await run(store.hit(bucket, Date.now()))), 15_000)
            )
          }).pipe(Effect.provide(RedisRateLimitStore.layer({ url: redis.url })))
        )
      )
    } finally {
      await redis.close()
    }
  }, 60_000)
})
