import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { RateLimitStore } from "@lunarbit/gateway-core"
import { rateLimitStoreSuite } from "@lunarbit/gateway-core/testing"
import { Context, Effect, Layer, Logger } from "effect"
import { Redis } from "ioredis"
import * as RedisRateLimitStore from "../../src/RedisRateLimitStore.ts"
import { redisServer, type TestRedis } from "../support/services.ts"

let server: TestRedis | undefined
let redis: Redis | undefined
beforeAll(async () => {
  server = await redisServer()
  redis = new Redis(server.url)
}, 120_000)
afterAll(async () => {
  await redis?.quit()
  await server?.close()
})

// Built lazily on the suite's first test, once `beforeAll` has the server running.
const storeLayer = () => RedisRateLimitStore.layer({ url: server!.url, prefix: server!.prefix })
rateLimitStoreSuite("Redis", Layer.unwrap(Effect.sync(storeLayer)))

/** A store with a connection of its own, as another gateway instance has. */
const instance = Effect.map(Layer.build(Layer.suspend(storeLayer)), Context.get(RateLimitStore.RateLimitStore))

const bucket = (label: string, limit: number, windowMs: number): RateLimitStore.Bucket => ({
  key: `${label}:${Math.random().toString(36).slice(2)}`,
  limit,
  windowMs
})

describe("RedisRateLimitStore", () => {
  it.live("stays exact across instances with their own connections and skewed clocks", () =>
    Effect.gen(function* () {
      const gateways = yield* Effect.all([instance, instance, instance])
      const shared = bucket("instances", 100, 3_600_000)
      const skews = [-3_600_000, 0, 3_600_000]
      const decisions = yield* Effect.forEach(
        Array.from({ length: 300 }, (_, i) => i),
        (i) => gateways[i % 3]!.hit(shared, Date.now() + skews[i % 3]!),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(decisions.filter((d) => d.allowed).length, 100)
      // Everyone agrees on when the bucket is full again, whatever their own clock says.
      const resets = decisions.map((d) => d.resetAt)
      assert.isBelow(Math.max(...resets) - Date.now(), 3_600_000 + 5_000)
      assert.isAbove(Math.min(...resets), Date.now() - 5_000)
    }).pipe(Effect.scoped)
  )

  it.live("computes exactly what RateLimitStore.gcra computes", () =>
    Effect.gen(function* () {
      // The script with its clock replaced by arguments, to compare both at chosen instants.
      const atTime = RedisRateLimitStore.gcraScript.replace("redis.call('TIME')", "{ARGV[3], ARGV[4]}")
      assert.notStrictEqual(atTime, RedisRateLimitStore.gcraScript)
      const shapes = [
        { limit: 7, windowMs: 1_000 },
        { limit: 3, windowMs: 10_000 },
        { limit: 1_000, windowMs: 900_000 },
        { limit: 60, windowMs: 3_600_000 }
      ]
      for (const shape of shapes) {
        const b = bucket("gcra", shape.limit, shape.windowMs)
        const key = `${server!.prefix}${b.key}`
        let tat: number | undefined
        let now = 1_760_000_000_000 + Math.floor(Math.random() * 1_000_000)
        for (let step = 0; step < 400; step++) {
          now += Math.floor(Math.random() * (shape.windowMs / shape.limit) * 1.5)
          const [seconds, micros] = [Math.floor(now / 1000), (now % 1000) * 1000 + Math.floor(Math.random() * 1000)]
          const reply = (yield* Effect.promise(() =>
            redis!.eval(atTime, 1, key, shape.limit, shape.windowMs, seconds, micros)
          )) as [number, number, number, number]
          const expected = RateLimitStore.gcra(b, tat, now)
          tat = expected.tat
          assert.deepStrictEqual(
            {
              allowed: reply[0] === 1,
              limit: b.limit,
              remaining: reply[1],
              resetAt: reply[2],
              retryAfterMs: reply[3]
            },
            expected.decision,
            `step ${step} of ${JSON.stringify(shape)}`
          )
        }
        yield* Effect.promise(() => redis!.del(key))
      }
    })
  )

  it.live("keeps a bucket under its prefix only until it is full again", () =>
    Effect.gen(function* () {
      const store = yield* instance
      const b = bucket("expiry", 2, 200)
      yield* store.hit(b, Date.now())
      const key = `${server!.prefix}${b.key}`
      const ttl = yield* Effect.promise(() => redis!.pttl(key))
      assert.isAbove(ttl, 0)
      assert.isAtMost(ttl, 200)
      yield* Effect.sleep("250 millis")
      assert.strictEqual(yield* Effect.promise(() => redis!.exists(key)), 0)
    }).pipe(Effect.scoped)
  )

  it.live("sends the script again when the server has forgotten it", () =>
    Effect.gen(function* () {
      const store = yield* instance
      const b = bucket("noscript", 2, 60_000)
      yield* store.hit(b, Date.now())
      yield* Effect.promise(() => redis!.script("FLUSH"))
      const again = yield* store.hit(b, Date.now())
      assert.deepStrictEqual([again.allowed, again.remaining], [true, 0])
      assert.isFalse((yield* store.hit(b, Date.now())).allowed)
    }).pipe(Effect.scoped)
  )

  it.live("refuses to start against an unreachable server, saying why", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        Layer.build(RedisRateLimitStore.layer({ url: "redis://127.0.0.1:1" })).pipe(
          Effect.scoped,
          Effect.provide(Logger.layer([]))
        )
      )
      assert.strictEqual(exit._tag, "Failure")
      assert.include(String(exit), "Cannot connect to Redis for rate limits")
    })
  )
})
