import { Cause, Context, Effect, Exit, Layer } from "effect"
import { KeyStore } from "../access/ports/KeyStore.ts"
import { RateLimitStore } from "../access/ports/RateLimitStore.ts"
import { DownloadStore } from "../releases/ports/DownloadStore.ts"
import { RolloutStore } from "../releases/ports/RolloutStore.ts"
import { type Counter, Metrics } from "./Metrics.ts"
import * as Tracing from "./Tracing.ts"

/**
 * A store's failure, as opposed to an answer: a defect (the database threw, the connection broke)
 * or the rate-limit store's `StoreUnavailable`. A duplicate key name is an answer.
 */
const isStoreFault = (cause: Cause.Cause<unknown>) =>
  Cause.hasDies(cause) ||
  cause.reasons.some(
    (reason) => Cause.isFailReason(reason) && (reason.error as { _tag?: string })?._tag === "RateLimitStoreUnavailable"
  )

interface Instruments {
  readonly errors: Counter | undefined
  readonly tracing: boolean
}

const observed = <A, E, R>(
  store: string,
  operation: string,
  effect: Effect.Effect<A, E, R>,
  { errors, tracing }: Instruments
): Effect.Effect<A, E, R> => {
  // An answer already decided (an in-memory store's Exit) stays one: the edge reads it without running anything.
  if (Exit.isExit(effect)) {
    if (errors !== undefined && Exit.isFailure(effect) && isStoreFault(effect.cause)) errors.inc([store])
    return effect
  }
  let result = effect
  if (errors !== undefined) {
    result = Effect.onError(result, (cause) => Effect.sync(() => isStoreFault(cause) && errors.inc([store])))
  }
  return tracing
    ? Effect.withSpan(result, `store.${store}.${operation}`, { attributes: { "gateway.store": store } })
    : result
}

/**
 * `shape` (a store port) with each operation counted in `lunarbit_store_errors_total` when it
 * fails and, when tracing is on, wrapped in a span named after the store and the operation (never
 * its arguments: hashes, names and buckets stay out of the trace). Members that are not effects
 * (a synchronous fast path) are left as they are.
 */
export const instrument = <S extends object>(store: string, shape: S, instruments: Instruments): S => {
  const out: Record<string, unknown> = {}
  for (const [name, member] of Object.entries(shape)) {
    if (Effect.isEffect(member)) out[name] = observed(store, name, member, instruments)
    else if (typeof member === "function") {
      out[name] = (...args: Array<unknown>) => {
        const result = member.apply(shape, args)
        return Effect.isEffect(result) ? observed(store, name, result, instruments) : result
      }
    } else out[name] = member
  }
  return out as S
}

type Stores = KeyStore | RateLimitStore | DownloadStore | RolloutStore

/**
 * The four store ports of `stores`, observed as `instrument` says, under the names the metrics use
 * (`keys`, `rate_limits`, `downloads`, `rollouts`). With metrics and tracing both off they are
 * returned untouched.
 */
export const layer = <E, R>(stores: Layer.Layer<Stores, E, R>): Layer.Layer<Stores, E, R> =>
  Layer.effectContext(
    Effect.gen(function* () {
      const registry = yield* Metrics
      const tracing = yield* Tracing.Enabled
      const context = yield* Effect.context<Stores>()
      if (registry === undefined && !tracing) return context
      const instruments: Instruments = {
        tracing,
        errors: registry?.counter("lunarbit_store_errors_total", {
          help: "Store operations that failed (a database or Redis fault), by store",
          labels: ["store"]
        })
      }
      return Context.make(KeyStore, instrument("keys", Context.get(context, KeyStore), instruments)).pipe(
        Context.add(RateLimitStore, instrument("rate_limits", Context.get(context, RateLimitStore), instruments)),
        Context.add(DownloadStore, instrument("downloads", Context.get(context, DownloadStore), instruments)),
        Context.add(RolloutStore, instrument("rollouts", Context.get(context, RolloutStore), instruments))
      )
    })
  ).pipe(Layer.provide(stores))
