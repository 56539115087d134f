import { Clock, Effect, Exit } from "effect"
import { KeyStore } from "../access/ports/KeyStore.ts"
import { RateLimitStore } from "../access/ports/RateLimitStore.ts"
import { NotReady } from "../errors/Errors.ts"
import { ReleaseSource } from "../releases/ports/ReleaseSource.ts"

/** How long one dependency may take to answer a readiness probe before it counts as down. */
const probeTimeout = "1 second"

// A hash no key has, and a bucket no caller uses: probing them reads (and, for the limiter, touches) nothing real.
const probeHash = "readiness-probe"
const probeBucket = { key: "probe:ready", limit: 1_000_000, windowMs: 1_000 }

const answers = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.timeout(probeTimeout),
    Effect.exit,
    // Stores that fail by dying (a dropped connection) are down as much as those that fail typed.
    Effect.map((exit) => (Exit.isSuccess(exit) ? ("ok" as const) : ("unavailable" as const)))
  )

/**
 * The readiness check of `/health/ready`: the catalog answers from memory and each store answers
 * within a second. An orchestrator routes traffic only to instances that pass it.
 */
export const make = Effect.gen(function* () {
  const source = yield* ReleaseSource
  const keys = yield* KeyStore
  const limits = yield* RateLimitStore
  return Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const checks = yield* Effect.all(
      {
        catalog: answers(source.catalog),
        keys: answers(keys.findByHash(probeHash)),
        rate_limits: answers(limits.hit(probeBucket, now))
      },
      { concurrency: "unbounded" }
    )
    const down = Object.entries(checks).filter(([, status]) => status !== "ok")
    if (down.length > 0) {
      return yield* new NotReady({
        message: `Not ready: ${down.map(([name]) => name).join(", ")} unavailable`,
        details: { checks, retry_after: 1 }
      })
    }
    return { status: "ready" as const, checks: checks as Record<string, "ok"> }
  })
})
