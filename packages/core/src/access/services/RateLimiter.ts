import { Clock, Context, Effect, Layer } from "effect"
import { GatewayConfig, type RateLimit } from "../../config/GatewayConfig.ts"
import type { Principal } from "../domain/Permissions.ts"
import { type Bucket, type Decision, RateLimitStore } from "../ports/RateLimitStore.ts"

/** Who is asking and for what: the inputs that pick a request's buckets. */
export interface RateLimitSubject {
  readonly ip: string
  /** The validated key's principal; never the raw token, so a new token cannot reset a limit. */
  readonly principal: Principal | undefined
  /** AI routes have a bucket of their own. */
  readonly ai: boolean
  /** The public documents count only against their own, generous per-IP bucket. */
  readonly publicDocument?: boolean | undefined
}

export interface AppliedBucket {
  /** `key`, `ip`, `ai` or `unauthenticated`: the policy name in the `RateLimit` headers. */
  readonly policy: string
  readonly bucket: Bucket
  readonly decision: Decision
}

export interface Verdict {
  readonly allowed: boolean
  /** The refused bucket, or the most restrictive one when all allowed. */
  readonly binding: AppliedBucket | undefined
  readonly applied: ReadonlyArray<AppliedBucket>
  readonly now: number
}

export interface RateLimiterShape {
  readonly check: (subject: RateLimitSubject) => Effect.Effect<Verdict>
}

export class RateLimiter extends Context.Service<RateLimiter, RateLimiterShape>()(
  "@lunarbit/gateway-core/RateLimiter"
) {}

// The bucket that binds is the one with the fewest requests left; between equals, the smaller limit.
const tighter = (a: AppliedBucket, b: AppliedBucket) =>
  a.decision.remaining !== b.decision.remaining
    ? a.decision.remaining < b.decision.remaining
    : a.decision.limit <= b.decision.limit

/**
 * The spec's four limits as buckets (the public documents have one of their own): every request counts against its IP's abuse bucket, a request
 * with a valid key against that key's bucket (its own `rateLimit` or the default) and, on AI
 * routes, the key's AI bucket; a request without a valid key against the IP's unauthenticated bucket.
 */
export const bucketsFor = (
  limits: {
    readonly perKey: RateLimit
    readonly perIp: RateLimit
    readonly ai: RateLimit
    readonly unauthenticated: RateLimit
    readonly publicDocuments: RateLimit
  },
  subject: RateLimitSubject
): ReadonlyArray<{ readonly policy: string; readonly bucket: Bucket }> => {
  if (subject.publicDocument) {
    const { max, windowMs } = limits.publicDocuments
    return [{ policy: "public", bucket: { key: `public:${subject.ip}`, limit: max, windowMs } }]
  }
  const buckets = [
    { policy: "ip", bucket: { key: `ip:${subject.ip}`, limit: limits.perIp.max, windowMs: limits.perIp.windowMs } }
  ]
  const { principal } = subject
  if (principal === undefined) {
    buckets.push({
      policy: "unauthenticated",
      bucket: {
        key: `anon:${subject.ip}`,
        limit: limits.unauthenticated.max,
        windowMs: limits.unauthenticated.windowMs
      }
    })
    return buckets
  }
  buckets.push({
    policy: "key",
    bucket: {
      key: `key:${principal.name}`,
      limit: principal.rateLimit ?? limits.perKey.max,
      windowMs: limits.perKey.windowMs
    }
  })
  if (subject.ai) {
    buckets.push({
      policy: "ai",
      bucket: { key: `ai:${principal.name}`, limit: limits.ai.max, windowMs: limits.ai.windowMs }
    })
  }
  return buckets
}

export const make = Effect.gen(function* () {
  const config = yield* GatewayConfig
  const store = yield* RateLimitStore
  const limits = config.rateLimits

  const check = (subject: RateLimitSubject): Effect.Effect<Verdict> =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      if (!limits.enabled) return { allowed: true, binding: undefined, applied: [], now }
      const applied: Array<AppliedBucket> = []
      for (const { policy, bucket } of bucketsFor(limits, subject)) {
        applied.push({ policy, bucket, decision: yield* store.hit(bucket, now) })
      }
      const refused = applied.find((a) => !a.decision.allowed)
      const binding = refused ?? applied.reduce((a, b) => (tighter(a, b) ? a : b))
      return { allowed: refused === undefined, binding, applied, now }
    })

  return RateLimiter.of({ check })
})

export const layer: Layer.Layer<RateLimiter, never, GatewayConfig | RateLimitStore> = Layer.effect(RateLimiter, make)

/**
 * The response headers of a verdict: `X-RateLimit-*` for the binding bucket (reset in epoch
 * seconds), and the IETF draft's `RateLimit-Policy` (every bucket applied) and `RateLimit`.
 */
export const headers = (verdict: Verdict): Record<string, string> => {
  const binding = verdict.binding
  if (binding === undefined) return {}
  const { decision } = binding
  const secondsToReset = Math.max(0, Math.ceil((decision.resetAt - verdict.now) / 1000))
  const result: Record<string, string> = {
    "x-ratelimit-limit": String(decision.limit),
    "x-ratelimit-remaining": String(decision.remaining),
    "x-ratelimit-reset": String(Math.ceil(decision.resetAt / 1000)),
    "ratelimit-policy": verdict.applied
      .map((a) => `"${a.policy}";q=${a.bucket.limit};w=${Math.round(a.bucket.windowMs / 1000)}`)
      .join(", "),
    ratelimit: `"${binding.policy}";r=${decision.remaining};t=${secondsToReset}`
  }
  if (!decision.allowed) result["retry-after"] = String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)))
  return result
}
