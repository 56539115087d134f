import { Cause, Clock, Context, Effect, Layer } from "effect"
import { GatewayConfig, type RateLimit } from "../../config/GatewayConfig.ts"
import type { Principal } from "../domain/Permissions.ts"
import { type Bucket, type Decision, makeMemory, RateLimitStore } from "../ports/RateLimitStore.ts"

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
  /** Set when the shared store could not decide and the policy is `closed`: the request is refused with 503. */
  readonly storeUnavailable?: true | undefined
}

export interface RateLimiterShape {
  /** Never fails: a store outage is decided by the `RATE_LIMIT_ON_STORE_FAILURE` policy. */
  readonly check: (subject: RateLimitSubject) => Effect.Effect<Verdict>
  /** `degraded` while the shared store cannot be reached, for `/health`. */
  readonly storeStatus: () => "ok" | "degraded"
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

// A shared store slower than this counts as down for the request; it must not hold requests up.
const storeTimeout = "500 millis"
// While the store is down, one request per interval tries it again; the others use the local buckets at once.
const retryIntervalMs = 1_000

const verdictOf = (applied: ReadonlyArray<AppliedBucket>, now: number): Verdict => {
  const refused = applied.find((a) => !a.decision.allowed)
  const binding = refused ?? applied.reduce((a, b) => (tighter(a, b) ? a : b))
  return { allowed: refused === undefined, binding, applied, now }
}

export const make = Effect.gen(function* () {
  const config = yield* GatewayConfig
  const store = yield* RateLimitStore
  const clock = yield* Clock.Clock
  const limits = config.rateLimits
  // In-process buckets: the whole limiter when the store keeps its state here (the default), and the
  // fallback that keeps abuse bounded while a shared store is down.
  const local = makeMemory()
  const decideSync = store.hitSync ?? local.hitSync
  let downSince: number | undefined
  let retryAt = 0

  const decideLocally = (subject: RateLimitSubject, now: number, decide: typeof decideSync): Verdict =>
    verdictOf(
      bucketsFor(limits, subject).map(({ policy, bucket }) => ({ policy, bucket, decision: decide(bucket, now) })),
      now
    )

  const whileDown = (subject: RateLimitSubject, now: number): Verdict =>
    limits.onStoreFailure === "open"
      ? decideLocally(subject, now, local.hitSync)
      : { allowed: false, binding: undefined, applied: [], now, storeUnavailable: true }

  // Logged once per change of state, not per request.
  const markDown = (now: number, cause: Cause.Cause<unknown>) => {
    retryAt = now + retryIntervalMs
    if (downSince !== undefined) return Effect.void
    downSince = now
    return Effect.logError(
      `Rate-limit store unreachable: deciding ${limits.onStoreFailure === "open" ? "with local buckets" : "by refusing requests (503)"} until it answers`,
      Cause.pretty(cause)
    )
  }
  const markUp = (now: number) => {
    if (downSince === undefined) return Effect.void
    const seconds = Math.round((now - downSince) / 1000)
    downSince = undefined
    return Effect.logInfo(`Rate-limit store reachable again after ${seconds} s`)
  }

  const shared = (subject: RateLimitSubject, now: number): Effect.Effect<Verdict> => {
    if (downSince !== undefined && now < retryAt) return Effect.succeed(whileDown(subject, now))
    const buckets = bucketsFor(limits, subject)
    return Effect.forEach(buckets, ({ policy, bucket }) =>
      Effect.map(store.hit(bucket, now), (decision) => ({ policy, bucket, decision }))
    ).pipe(
      Effect.timeout(storeTimeout),
      Effect.matchCauseEffect({
        onSuccess: (applied) => Effect.as(markUp(now), verdictOf(applied, now)),
        onFailure: (cause) => Effect.as(markDown(now, cause), whileDown(subject, now))
      })
    )
  }

  const check = (subject: RateLimitSubject): Effect.Effect<Verdict> => {
    const now = clock.currentTimeMillisUnsafe()
    if (!limits.enabled) return Effect.succeed({ allowed: true, binding: undefined, applied: [], now })
    // A store in this process decides synchronously: the result is an Exit, read without a fiber.
    return store.hitSync === undefined ? shared(subject, now) : Effect.succeed(decideLocally(subject, now, decideSync))
  }

  return RateLimiter.of({ check, storeStatus: () => (downSince === undefined ? "ok" : "degraded") })
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
