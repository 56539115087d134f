import { RateLimitStore } from "@lunarbit/gateway-core"
import { Effect, Layer } from "effect"
import type { DurableObjectNamespace, DurableObjectState } from "./Cloudflare.ts"

/** What the store asks of a bucket's object: the bucket's settings (its key is the object's name). */
interface HitRequest {
  readonly limit: number
  readonly windowMs: number
}

const tatKey = "tat"

/**
 * The Durable Object behind one rate-limit bucket (export it from the Worker's entry and bind it as
 * `RATE_LIMITER`). Cloudflare runs one instance of each object in the world and hands it one event
 * at a time, so the core's GCRA decides every request of the bucket, from every isolate and
 * location, exactly once and in order. The TAT is kept in memory and in the object's storage (the
 * answer waits until it is written), so an evicted object starts where it left off, and an alarm
 * clears the storage once the bucket is full again, so idle buckets cost nothing.
 */
export class RateLimiterObject {
  private tat: number | undefined
  private readonly state: DurableObjectState

  constructor(state: DurableObjectState) {
    this.state = state
    void state.blockConcurrencyWhile(async () => {
      this.tat = await state.storage.get<number>(tatKey)
    })
  }

  async fetch(request: Request): Promise<Response> {
    const { limit, windowMs } = (await request.json()) as HitRequest
    // The object's clock, not the caller's: one clock per bucket, whichever isolate asks.
    const now = Date.now()
    const { decision, tat } = RateLimitStore.gcra({ key: "", limit, windowMs }, this.tat, now)
    if (tat !== this.tat) {
      this.tat = tat
      void this.state.storage.put(tatKey, tat)
      void this.state.storage.setAlarm(Math.ceil(tat))
    }
    return Response.json(decision)
  }

  async alarm(): Promise<void> {
    if (this.tat === undefined || this.tat <= Date.now()) {
      this.tat = undefined
      await this.state.storage.deleteAll()
    }
  }
}

/**
 * Rate limits in the `RateLimiterObject` namespace bound as `namespace`: one object per bucket key,
 * one call per bucket a request counts against. When the object cannot be reached, the request is
 * let through and the failure logged: an outage of the limiter must not take the API down with it.
 */
export const make = (namespace: DurableObjectNamespace): RateLimitStore.RateLimitStoreShape => ({
  hit: (bucket, now) =>
    Effect.tryPromise(async () => {
      const stub = namespace.get(namespace.idFromName(bucket.key))
      const response = await stub.fetch("https://rate-limiter/hit", {
        method: "POST",
        body: JSON.stringify({ limit: bucket.limit, windowMs: bucket.windowMs } satisfies HitRequest)
      })
      if (!response.ok) throw new Error(`The rate limiter answered ${response.status}`)
      return (await response.json()) as RateLimitStore.Decision
    }).pipe(
      Effect.catch((error) =>
        Effect.as(
          Effect.logWarning("Rate limiter unreachable; request allowed", { bucket: bucket.key, error: String(error) }),
          { allowed: true, limit: bucket.limit, remaining: bucket.limit - 1, resetAt: now, retryAfterMs: 0 }
        )
      )
    )
})

/** Rate limits in the Durable Object namespace bound as `namespace`. */
export const layer = (namespace: DurableObjectNamespace): Layer.Layer<RateLimitStore.RateLimitStore> =>
  Layer.succeed(RateLimitStore.RateLimitStore, make(namespace))
