import { assert, describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Context, Effect, Exit, Layer } from "effect"
import { TestClock } from "effect/testing"
import * as ApiKeyFormat from "../src/access/domain/ApiKeyFormat.ts"
import * as Durations from "../src/access/domain/Durations.ts"
import * as Permissions from "../src/access/domain/Permissions.ts"
import * as KeyStore from "../src/access/ports/KeyStore.ts"
import * as RateLimitStore from "../src/access/ports/RateLimitStore.ts"
import * as Authentication from "../src/access/services/Authentication.ts"
import * as Keys from "../src/access/services/Keys.ts"
import * as RateLimiter from "../src/access/services/RateLimiter.ts"
import * as UsageRecorder from "../src/access/services/UsageRecorder.ts"
import { GatewayConfig } from "../src/config/GatewayConfig.ts"

const adminKey = "core-test-admin-key-0123456789abcdef"
const config = (env: Record<string, string> = {}) =>
  GatewayConfig.layer.pipe(
    Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ API_KEY_ADMIN: adminKey, ...env })))
  )

/** Keys and Authentication over a memory store whose grace-period clock is `now()`. */
const keysLayer = (now: () => number = Date.now) =>
  Keys.layer.pipe(
    Layer.provideMerge(Authentication.layer),
    Layer.provideMerge(Layer.succeed(KeyStore.KeyStore, KeyStore.makeMemory([], now))),
    Layer.provide(config())
  )

const actor = { principal: Permissions.admin, requestId: "req_test" }

describe("ApiKeyFormat", () => {
  it("generates keys that are well formed, distinct and carry at least 128 bits", () => {
    const keys = new Set(Array.from({ length: 200 }, ApiKeyFormat.generate))
    assert.strictEqual(keys.size, 200)
    for (const key of keys) {
      assert.match(key, /^lbapi_[0-9A-Za-z]{49}$/)
      assert.isTrue(ApiKeyFormat.isWellFormed(key))
    }
  })

  it("detects a mistyped character, a truncation and a foreign prefix", () => {
    const key = ApiKeyFormat.generate()
    const flipped = key.slice(0, 20) + (key[20] === "a" ? "b" : "a") + key.slice(21)
    assert.isFalse(ApiKeyFormat.isWellFormed(flipped))
    assert.isFalse(ApiKeyFormat.isWellFormed(key.slice(0, -1)))
    assert.isFalse(ApiKeyFormat.isWellFormed(`lbapx_${key.slice(6)}`))
    assert.isFalse(ApiKeyFormat.isWellFormed(`${key} `))
  })
})

describe("Durations", () => {
  it.each([
    ["15m", 900_000],
    ["12h", 43_200_000],
    ["30d", 2_592_000_000],
    ["2w", 1_209_600_000],
    ["1y", 31_536_000_000]
  ])("reads %s", (text, ms) => {
    expect(Durations.parse(text)).toBe(ms)
  })

  it.each(["", "0d", "1.5d", "d", "30", "30 d", "-1d", "1x", "9999999d"])("refuses %j", (text) => {
    expect(Durations.parse(text)).toBeUndefined()
  })
})

describe("Authentication with stored keys", () => {
  it.effect("refuses an expired key once its time has come", () =>
    Effect.gen(function* () {
      const keys = yield* Keys.Keys
      const authentication = yield* Authentication.Authentication
      const issued = yield* keys.create(actor, {
        name: "expiring",
        permissions: ["canReadProjects"],
        expiresInMs: Durations.parse("30d")
      })
      const principal = yield* authentication.authenticate(issued.secret)
      assert.strictEqual(principal.name, "expiring")
      assert.isTrue(Permissions.has(principal, "canReadProjects"))
      assert.isFalse(Permissions.has(principal, "canUseAI"))
      yield* TestClock.adjust("30 days")
      const refused = yield* Effect.flip(authentication.authenticate(issued.secret))
      assert.strictEqual(refused.details?.reason, "expired")
    }).pipe(Effect.provide(keysLayer(() => 0)))
  )

  it.effect("accepts the previous secret of a rotated key only during its grace period", () => {
    let now = 0
    return Effect.gen(function* () {
      const keys = yield* Keys.Keys
      const authentication = yield* Authentication.Authentication
      const first = yield* keys.create(actor, { name: "rotating", permissions: [] })
      const second = yield* keys.rotate(actor, "rotating", Durations.parse("24h")!)
      assert.strictEqual((yield* authentication.authenticate(second.secret)).name, "rotating")
      now = Durations.parse("23h")!
      assert.strictEqual((yield* authentication.authenticate(first.secret)).name, "rotating")
      now = Durations.parse("24h")! + 1
      // A verified key is remembered for a second before the store is asked again.
      yield* TestClock.adjust("1 second")
      const refused = yield* Effect.flip(authentication.authenticate(first.secret))
      assert.strictEqual(refused.details?.reason, "unknown")
      assert.strictEqual((yield* authentication.authenticate(second.secret)).name, "rotating")
    }).pipe(Effect.provide(keysLayer(() => now)))
  })

  it.effect(
    "answers a key in use from memory while it checks it again in the background, and still refuses it within a second of a revocation made elsewhere",
    () => {
      let lookups = 0
      const store = KeyStore.makeMemory()
      const counting = KeyStore.KeyStore.of({
        ...store,
        findByHash: (hash: string) =>
          Effect.suspend(() => {
            lookups++
            return store.findByHash(hash)
          })
      })
      return Effect.gen(function* () {
        const keys = yield* Keys.Keys
        const authentication = yield* Authentication.Authentication
        const issued = yield* keys.create(actor, { name: "busy", permissions: [] })
        yield* authentication.authenticate(issued.secret)
        assert.strictEqual(lookups, 1)
        // A request every 300 ms for 3 s: each answered from memory (an Exit: no request waits on the store).
        for (let elapsed = 300; elapsed <= 3_000; elapsed += 300) {
          yield* TestClock.adjust("300 millis")
          const outcome = authentication.authenticate(issued.secret)
          assert.isTrue(Exit.isExit(outcome), `at ${elapsed} ms`)
          assert.strictEqual((yield* outcome).name, "busy")
          yield* Effect.yieldNow
        }
        // The store was asked again in the background, about every 600 ms, not on every request.
        assert.isAtLeast(lookups, 4)
        assert.isAtMost(lookups, 7)
        // Revoked through another instance: this one has not forgotten it, and learns of it within a second.
        yield* keys.revoke(actor, "busy")
        let refusedAfterMs: number | undefined
        for (let elapsed = 100; elapsed <= 1_000 && refusedAfterMs === undefined; elapsed += 100) {
          yield* TestClock.adjust("100 millis")
          const answer = yield* Effect.exit(authentication.authenticate(issued.secret))
          if (Exit.isFailure(answer)) refusedAfterMs = elapsed
          yield* Effect.yieldNow
        }
        assert.isDefined(refusedAfterMs)
        assert.isAtMost(refusedAfterMs!, 1_000)
      }).pipe(
        Effect.provide(
          Keys.layer.pipe(
            Layer.provideMerge(Authentication.layer),
            Layer.provideMerge(Layer.succeed(KeyStore.KeyStore, counting)),
            Layer.provide(config())
          )
        )
      )
    }
  )

  it.effect("never stores the secret, only its keyed hash", () =>
    Effect.gen(function* () {
      const keys = yield* Keys.Keys
      const store = yield* KeyStore.KeyStore
      const issued = yield* keys.create(actor, { name: "hashed", permissions: [] })
      const stored = yield* store.findByName("hashed")
      assert.match(stored!.hash, /^[a-f0-9]{64}$/)
      assert.notInclude(JSON.stringify(stored), issued.secret)
      assert.strictEqual(stored!.last4, issued.secret.slice(-4))
    }).pipe(Effect.provide(keysLayer()))
  )

  it.effect("refuses a malformed key without consulting the store", () =>
    Effect.gen(function* () {
      let lookups = 0
      const store = KeyStore.makeMemory()
      const counting = {
        ...store,
        findByHash: (hash: string) =>
          Effect.suspend(() => {
            lookups++
            return store.findByHash(hash)
          })
      }
      const authentication = yield* Authentication.make.pipe(
        Effect.provideService(KeyStore.KeyStore, counting),
        Effect.provide(config())
      )
      const refused = yield* Effect.flip(authentication.authenticate("lbapi_typo"))
      assert.strictEqual(refused.details?.reason, "malformed")
      assert.strictEqual(lookups, 0)
      yield* Effect.flip(authentication.authenticate(ApiKeyFormat.generate()))
      assert.strictEqual(lookups, 1)
    })
  )
})

describe("GCRA", () => {
  const bucket = { key: "k", limit: 10, windowMs: 10_000 }

  it("lets a burst of exactly the limit through, then refills one request per interval", () => {
    let tat: number | undefined
    const decisions = Array.from({ length: 11 }, () => {
      const result = RateLimitStore.gcra(bucket, tat, 0)
      tat = result.tat
      return result.decision
    })
    expect(decisions.map((d) => d.allowed)).toEqual([...Array(10).fill(true), false])
    expect(decisions.map((d) => d.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0])
    expect(decisions[10]!.retryAfterMs).toBe(1000)
    expect(RateLimitStore.gcra(bucket, tat, 999).decision.allowed).toBe(false)
    expect(RateLimitStore.gcra(bucket, tat, 1000).decision.allowed).toBe(true)
    expect(decisions[9]!.resetAt).toBe(10_000)
  })
})

describe("RateLimiter", () => {
  const limiter = (env: Record<string, string>) =>
    RateLimiter.layer.pipe(Layer.provide(RateLimitStore.layerMemory), Layer.provide(config(env)))
  const key = (name: string, rateLimit?: number): Permissions.Principal => ({
    ...Permissions.admin,
    name,
    isAdmin: false,
    rateLimit
  })

  it.effect("applies the per-key, per-IP and AI buckets, and binds the tightest", () =>
    Effect.gen(function* () {
      const rateLimiter = yield* RateLimiter.RateLimiter
      const verdict = yield* rateLimiter.check({ ip: "203.0.113.9", principal: key("app"), ai: true })
      expect(verdict.applied.map((a) => [a.policy, a.bucket.limit])).toEqual([
        ["ip", 1000],
        ["key", 1000],
        ["ai", 100]
      ])
      expect(verdict.binding?.policy).toBe("ai")
      const headers = RateLimiter.headers(verdict)
      expect(headers["x-ratelimit-limit"]).toBe("100")
      expect(headers["x-ratelimit-remaining"]).toBe("99")
      expect(headers["ratelimit-policy"]).toBe('"ip";q=1000;w=900, "key";q=1000;w=900, "ai";q=100;w=3600')
      const anonymous = yield* rateLimiter.check({ ip: "203.0.113.9", principal: undefined, ai: false })
      expect(anonymous.applied.map((a) => [a.policy, a.bucket.limit])).toEqual([
        ["ip", 1000],
        ["unauthenticated", 60]
      ])
    }).pipe(Effect.provide(limiter({})))
  )

  it.effect("uses a key's own limit, and can be turned off", () =>
    Effect.gen(function* () {
      const rateLimiter = yield* RateLimiter.RateLimiter
      const verdict = yield* rateLimiter.check({ ip: "198.51.100.1", principal: key("custom", 7), ai: false })
      expect(verdict.applied.find((a) => a.policy === "key")?.bucket.limit).toBe(7)
    }).pipe(Effect.provide(limiter({})))
  )

  it.effect("allows everything without headers when RATE_LIMIT_ENABLED=false", () =>
    Effect.gen(function* () {
      const rateLimiter = yield* RateLimiter.RateLimiter
      const verdict = yield* rateLimiter.check({ ip: "198.51.100.1", principal: undefined, ai: false })
      expect(verdict.allowed).toBe(true)
      expect(RateLimiter.headers(verdict)).toEqual({})
    }).pipe(Effect.provide(limiter({ RATE_LIMIT_ENABLED: "false" })))
  )
})

describe("UsageRecorder", () => {
  it.effect("counts without waiting on the store, and keeps counts through a failed flush", () =>
    Effect.gen(function* () {
      const store = KeyStore.makeMemory()
      let failNext = true
      const flaky = {
        ...store,
        recordUsage: (deltas: ReadonlyArray<KeyStore.UsageDelta>) =>
          failNext
            ? Effect.sync(() => (failNext = false)).pipe(Effect.andThen(Effect.die("store down")))
            : store.recordUsage(deltas)
      }
      const recorder = UsageRecorder.make(flaky)
      recorder.recordRequest("app", false)
      recorder.recordRequest("app", true)
      recorder.recordTokens("app", 150)
      yield* recorder.flush
      assert.deepStrictEqual(yield* store.usage, [])
      recorder.recordRequest("app", false)
      yield* recorder.flush
      const [usage] = yield* store.usage
      expect(usage).toMatchObject({ name: "app", requests: 3, errors: 1, tokens: 150 })
      expect(Exit.isSuccess(yield* Effect.exit(recorder.flush))).toBe(true)
    })
  )

  it.effect("reports pending counts in the usage before they are flushed", () =>
    Effect.gen(function* () {
      const store = KeyStore.makeMemory()
      yield* store.recordUsage([
        { name: "app", requests: 10, errors: 1, tokens: 5, lastUsedAt: "2026-01-01T00:00:00.000Z" }
      ])
      const recorder = UsageRecorder.make(store, () => Date.parse("2026-02-01T00:00:00.000Z"))
      recorder.recordRequest("app", true)
      const [usage] = yield* recorder.usage
      expect(usage).toEqual({ name: "app", requests: 11, errors: 2, tokens: 5, lastUsedAt: "2026-02-01T00:00:00.000Z" })
    })
  )

  it.effect("flushes in the background and when released", () =>
    Effect.gen(function* () {
      const store = KeyStore.makeMemory()
      yield* Effect.scoped(
        Effect.gen(function* () {
          const recorder = Context.get(yield* Layer.build(UsageRecorder.layer), UsageRecorder.UsageRecorder)
          recorder.recordRequest("app", false)
          yield* TestClock.adjust("100 millis")
          expect((yield* store.usage)[0]?.requests).toBe(1)
          recorder.recordRequest("app", false)
        }).pipe(Effect.provideService(KeyStore.KeyStore, store))
      )
      expect((yield* store.usage)[0]?.requests).toBe(2)
    })
  )

  it.effect("writes one batch per 100 ms however many requests, and nothing when idle", () =>
    Effect.gen(function* () {
      const store = KeyStore.makeMemory()
      const batches: Array<number> = []
      const counting = {
        ...store,
        recordUsage: (deltas: ReadonlyArray<KeyStore.UsageDelta>) =>
          Effect.sync(() => batches.push(deltas.length)).pipe(Effect.andThen(store.recordUsage(deltas)))
      }
      yield* Effect.scoped(
        Effect.gen(function* () {
          const recorder = Context.get(yield* Layer.build(UsageRecorder.layer), UsageRecorder.UsageRecorder)
          for (let i = 0; i < 10_000; i++) recorder.recordRequest(`key-${i % 5}`, i % 10 === 0)
          yield* TestClock.adjust("100 millis")
          expect(batches).toEqual([5])
          yield* TestClock.adjust("1 second")
          expect(batches).toEqual([5])
        }).pipe(Effect.provideService(KeyStore.KeyStore, counting))
      )
      const total = (yield* store.usage).reduce((sum, usage) => sum + usage.requests, 0)
      expect(total).toBe(10_000)
    })
  )
})
