import { Context, Data, Effect, Layer } from "effect"

/** One rate-limit bucket: `limit` requests per `windowMs`. */
export interface Bucket {
  /** Identifies the bucket and whose it is, e.g. `key:my-app` or `ip:203.0.113.9`. */
  readonly key: string
  readonly limit: number
  readonly windowMs: number
}

/** The bucket's state after a request was counted (or refused). */
export interface Decision {
  readonly allowed: boolean
  readonly limit: number
  readonly remaining: number
  /** Epoch milliseconds at which the bucket is full again. */
  readonly resetAt: number
  /** Milliseconds until a refused request would be allowed; 0 when allowed. */
  readonly retryAfterMs: number
}

/**
 * Where rate-limit state lives. The algorithm is GCRA (the generic cell rate algorithm): each bucket
 * keeps one timestamp, its "theoretical arrival time" (TAT), and a request is allowed when the
 * bucket would not overflow. It lets exactly `limit` requests through a burst and refills evenly,
 * and a decision is one atomic read-modify-write, so it stays exact under concurrency and across
 * instances sharing a store.
 */
/** The store could not decide: unreachable, too slow, or it answered with an error. */
export class StoreUnavailable extends Data.TaggedError("RateLimitStoreUnavailable")<{ readonly cause: unknown }> {}

export interface RateLimitStoreShape {
  /** Fails when the store cannot be reached; the `RateLimiter` applies its failure policy (defects too). */
  readonly hit: (bucket: Bucket, now: number) => Effect.Effect<Decision, StoreUnavailable>
  /**
   * The same decision made synchronously, for stores that keep their state in this process: the
   * limiter then decides without running an effect, on the request path's fast lane.
   */
  readonly hitSync?: ((bucket: Bucket, now: number) => Decision) | undefined
}

export class RateLimitStore extends Context.Service<RateLimitStore, RateLimitStoreShape>()(
  "@lunarbit/gateway-core/RateLimitStore"
) {}

/**
 * GCRA for one request at `now` against a bucket whose stored TAT is `tat` (undefined when new).
 * Returns the decision and the TAT to store (unchanged when refused). Stores that run the
 * algorithm elsewhere (a Redis script) must compute the same thing.
 */
export const gcra = (
  bucket: Bucket,
  tat: number | undefined,
  now: number
): { readonly decision: Decision; readonly tat: number } => {
  const interval = bucket.windowMs / bucket.limit
  const base = Math.max(tat ?? now, now)
  const next = base + interval
  if (next - now > bucket.windowMs) {
    return {
      tat: base,
      decision: {
        allowed: false,
        limit: bucket.limit,
        remaining: 0,
        resetAt: Math.ceil(base),
        retryAfterMs: Math.ceil(next - bucket.windowMs - now)
      }
    }
  }
  return {
    tat: next,
    decision: {
      allowed: true,
      limit: bucket.limit,
      remaining: Math.max(0, Math.floor((now + bucket.windowMs - next) / interval)),
      resetAt: Math.ceil(next),
      retryAfterMs: 0
    }
  }
}

/** In one process: exact, since JavaScript runs one decision at a time. Idle buckets are dropped. */
export const makeMemory = (): RateLimitStoreShape & { readonly hitSync: (bucket: Bucket, now: number) => Decision } => {
  const tats = new Map<string, number>()
  let sweepAt = 0
  const hitSync = (bucket: Bucket, now: number): Decision => {
    if (now >= sweepAt) {
      // A TAT in the past means a full bucket, the same as no entry: forget it. This also bounds the
      // map to the buckets active within one window.
      for (const [key, tat] of tats) if (tat <= now) tats.delete(key)
      sweepAt = now + 60_000
    }
    const { decision, tat } = gcra(bucket, tats.get(bucket.key), now)
    tats.set(bucket.key, tat)
    return decision
  }
  return { hit: (bucket, now) => Effect.sync(() => hitSync(bucket, now)), hitSync }
}

export const layerMemory: Layer.Layer<RateLimitStore> = Layer.sync(RateLimitStore, makeMemory)
