import { Context, Duration, Effect, Layer, Schedule } from "effect"
import { KeyStore, type KeyUsage, type UsageDelta } from "../ports/KeyStore.ts"
import { UsageFlush } from "./UsageFlush.ts"

/**
 * Per-key usage (requests, errors, tokens, last use), counted in memory on the request path and
 * written to the `KeyStore` in the background. Counting never waits on the store, so a slow or
 * failing store cannot slow or fail a request; pending counts survive a failed flush and are
 * written at shutdown.
 */
export interface UsageRecorderShape {
  /** Counts one request (and an error when `error`); synchronous and allocation-light. */
  readonly recordRequest: (name: string, error: boolean) => void
  readonly recordTokens: (name: string, tokens: number) => void
  /** Writes pending counts to the store. */
  readonly flush: Effect.Effect<void>
  /** Stored usage plus what is still pending, per key. */
  readonly usage: Effect.Effect<ReadonlyArray<KeyUsage>>
}

export class UsageRecorder extends Context.Service<UsageRecorder, UsageRecorderShape>()(
  "@lunarbit/gateway-core/UsageRecorder"
) {}

interface Pending {
  requests: number
  errors: number
  tokens: number
  lastUsedAt: number
}

const toDelta = (name: string, pending: Pending): UsageDelta => ({
  name,
  requests: pending.requests,
  errors: pending.errors,
  tokens: pending.tokens,
  lastUsedAt: new Date(pending.lastUsedAt).toISOString()
})

export const make = (store: typeof KeyStore.Service, clock: () => number = Date.now) => {
  let pending = new Map<string, Pending>()
  const entry = (name: string) => {
    let found = pending.get(name)
    if (found === undefined) {
      found = { requests: 0, errors: 0, tokens: 0, lastUsedAt: 0 }
      pending.set(name, found)
    }
    found.lastUsedAt = clock()
    return found
  }

  const merge = (into: Map<string, Pending>, from: Map<string, Pending>) => {
    for (const [name, counts] of from) {
      const target = into.get(name)
      if (target === undefined) into.set(name, counts)
      else {
        target.requests += counts.requests
        target.errors += counts.errors
        target.tokens += counts.tokens
        target.lastUsedAt = Math.max(target.lastUsedAt, counts.lastUsedAt)
      }
    }
  }

  const flush = Effect.suspend(() => {
    if (pending.size === 0) return Effect.void
    const batch = pending
    pending = new Map()
    return store.recordUsage([...batch].map(([name, counts]) => toDelta(name, counts))).pipe(
      // A failed write keeps the counts for the next flush rather than losing them.
      Effect.catchCause((cause) =>
        Effect.sync(() => merge(pending, batch)).pipe(
          Effect.andThen(Effect.logWarning("Usage flush failed; will retry", cause))
        )
      )
    )
  })

  const usage = Effect.map(store.usage, (stored) => {
    const byName = new Map(stored.map((u) => [u.name, u]))
    for (const [name, counts] of pending) {
      const base = byName.get(name)
      const lastUsedAt = new Date(counts.lastUsedAt).toISOString()
      byName.set(name, {
        name,
        requests: (base?.requests ?? 0) + counts.requests,
        errors: (base?.errors ?? 0) + counts.errors,
        tokens: (base?.tokens ?? 0) + counts.tokens,
        lastUsedAt: base?.lastUsedAt !== undefined && base.lastUsedAt > lastUsedAt ? base.lastUsedAt : lastUsedAt
      })
    }
    return [...byName.values()]
  })

  return UsageRecorder.of({
    recordRequest: (name, error) => {
      const counts = entry(name)
      counts.requests++
      if (error) counts.errors++
    },
    recordTokens: (name, tokens) => {
      entry(name).tokens += tokens
    },
    flush,
    usage
  })
}

/**
 * How often pending usage is written to the store: one batch per interval, whatever the request
 * rate, and nothing when idle. It bounds what a crash (`kill -9`, power loss of the process) loses.
 */
export const flushInterval = Duration.millis(100)

/**
 * The recorder with its background flush (unless the host took the flush, see `UsageFlush`), and a
 * last flush when the layer is released.
 */
export const layer: Layer.Layer<UsageRecorder, never, KeyStore> = Layer.effect(
  UsageRecorder,
  Effect.gen(function* () {
    const recorder = make(yield* KeyStore)
    yield* Effect.addFinalizer(() => recorder.flush)
    const takeFlush = yield* UsageFlush
    if (takeFlush !== undefined) takeFlush(recorder.flush)
    else yield* Effect.forkScoped(Effect.repeat(recorder.flush, Schedule.spaced(flushInterval)))
    return recorder
  })
)
