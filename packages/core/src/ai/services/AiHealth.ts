import { Clock, Duration, Effect } from "effect"
import type * as Routing from "./AiRouting.ts"

/** How fresh the router's knowledge of its providers must be. */
export interface HealthSettings {
  readonly healthIntervalMs: number
  readonly probeTimeoutMs: number
}

/** The router's view of provider health. */
export interface Health {
  /** Probes every provider unless a probe younger than the interval answered; callers share one probe. */
  readonly refresh: Effect.Effect<void>
  /**
   * For the request path: waits only for the very first probe (the model lists are unknown before it)
   * and otherwise refreshes stale knowledge in the background, so requests never wait on probes.
   */
  readonly ensureKnown: Effect.Effect<void>
}

/** Health probes of `states`, cached for the health interval: `/ai/status` never hammers upstreams. */
export const make = (states: ReadonlyArray<Routing.ProviderState>, settings: HealthSettings) =>
  Effect.gen(function* () {
    const probe = (state: Routing.ProviderState) =>
      state.provider.probe(settings.probeTimeoutMs).pipe(
        Effect.result,
        Effect.flatMap((result) =>
          Effect.map(Clock.currentTimeMillis, (now) => {
            state.probedAt = now
            state.probeOk = result._tag === "Success"
            if (result._tag === "Success") state.models = result.success
            else state.lastError = result.failure.message
          })
        )
      )

    const refresh = yield* Effect.cachedWithTTL(
      Effect.forEach(states, probe, { concurrency: "unbounded", discard: true }),
      Duration.millis(settings.healthIntervalMs)
    )

    const ensureKnown = Effect.gen(function* () {
      if (states.some((state) => state.probedAt === undefined)) return yield* refresh
      const now = yield* Clock.currentTimeMillis
      if (states.some((state) => now - (state.probedAt ?? 0) >= settings.healthIntervalMs)) {
        yield* Effect.forkDetach(refresh)
      }
    })

    return { refresh, ensureKnown } satisfies Health
  })
