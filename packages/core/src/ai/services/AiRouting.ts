import { type FailureKind, isProviderFault } from "../domain/AiFailures.ts"
import type { AIProviderShape } from "../ports/AIProvider.ts"

/** The spec's four routing strategies. */
export const strategies = ["priority", "round-robin", "least-loaded", "fastest"] as const
export type Strategy = (typeof strategies)[number]

/** Circuit breaker and cooling settings shared by every provider. */
export interface BreakerSettings {
  /** Consecutive provider faults that open the circuit. */
  readonly failureThreshold: number
  /** How long an open circuit refuses requests before one trial request is let through. */
  readonly cooldownMs: number
  /** Cooling after a 429 that named no `Retry-After`. */
  readonly defaultRetryAfterMs: number
}

/**
 * What the router knows about one provider. Mutated only by the functions below, from one request
 * at a time per event-loop turn, so no locking is needed.
 */
export interface ProviderState {
  readonly provider: AIProviderShape
  /** Position in the priority order. */
  readonly rank: number
  inFlight: number
  /** Moving averages in milliseconds: whole non-streamed completions, and streams' first tokens. */
  latencyMs: number | undefined
  firstTokenMs: number | undefined
  consecutiveFaults: number
  /** While `now` is before this, the circuit is open; once past it, half-open. 0 when closed. */
  openUntil: number
  /** A half-open circuit lets one trial request through at a time. */
  trialInFlight: boolean
  /** After a 429: refused until this time. */
  coolingUntil: number
  /** The models of the last successful probe; `undefined` until one succeeds. */
  models: ReadonlyArray<string> | undefined
  probedAt: number | undefined
  probeOk: boolean
  lastError: string | undefined
}

/** A provider the router has not heard from yet. */
export const makeState = (provider: AIProviderShape, rank: number): ProviderState => ({
  provider,
  rank,
  inFlight: 0,
  latencyMs: undefined,
  firstTokenMs: undefined,
  consecutiveFaults: 0,
  openUntil: 0,
  trialInFlight: false,
  coolingUntil: 0,
  models: undefined,
  probedAt: undefined,
  probeOk: false,
  lastError: undefined
})

/** Open, or half-open with its one trial request already in flight. */
export const isCircuitOpen = (state: ProviderState, now: number): boolean =>
  now < state.openUntil || (state.openUntil > 0 && state.trialInFlight)

/** Whether a request may go to this provider now: not cooling after a 429, circuit not open. */
export const isEligible = (state: ProviderState, now: number): boolean =>
  now >= state.coolingUntil && !isCircuitOpen(state, now)

/** When the provider will take requests again; `now` if it does already. */
export const availableAt = (state: ProviderState, now: number): number =>
  Math.max(now, state.coolingUntil, state.openUntil)

/** Records that an attempt starts; a half-open circuit lets no second one through until it ends. */
export const begin = (state: ProviderState): void => {
  state.inFlight += 1
  if (state.openUntil > 0) state.trialInFlight = true
}

/** Records that an attempt ended, whatever its outcome. */
export const end = (state: ProviderState): void => {
  state.inFlight -= 1
}

/** The provider answered (even a refusal of the request proves it is up): the circuit closes. */
export const succeeded = (state: ProviderState): void => {
  state.consecutiveFaults = 0
  state.openUntil = 0
  state.trialInFlight = false
}

/** The attempt failed: faults count toward the breaker, a 429 cools the provider down. */
export const failed = (
  state: ProviderState,
  failure: { readonly kind: FailureKind; readonly retryAfterMs?: number | undefined; readonly message: string },
  now: number,
  settings: BreakerSettings
): void => {
  state.lastError = failure.message
  const wasTrial = state.trialInFlight
  state.trialInFlight = false
  if (failure.kind === "rate_limited") {
    state.coolingUntil = now + (failure.retryAfterMs ?? settings.defaultRetryAfterMs)
    return
  }
  if (!isProviderFault(failure.kind)) {
    succeeded(state)
    return
  }
  state.consecutiveFaults += 1
  if (wasTrial || state.consecutiveFaults >= settings.failureThreshold) state.openUntil = now + settings.cooldownMs
}

/** An attempt ended without an answer either way (the client left): only the trial slot is freed. */
export const abandoned = (state: ProviderState): void => {
  state.trialInFlight = false
}

// Recent samples weigh a fifth: a provider that slows down loses traffic within a few requests.
const weight = 0.2
const average = (previous: number | undefined, sample: number) =>
  previous === undefined ? sample : previous + weight * (sample - previous)

/** A whole non-streamed answer took `ms`. */
export const recordLatency = (state: ProviderState, ms: number): void => {
  state.latencyMs = average(state.latencyMs, ms)
}

/** A stream's first token came after `ms`. */
export const recordFirstToken = (state: ProviderState, ms: number): void => {
  state.firstTokenMs = average(state.firstTokenMs, ms)
}

const byRank = (a: ProviderState, b: ProviderState) => a.rank - b.rank

// Providers without samples sort first, so each is measured before being judged.
const speed = (state: ProviderState, streaming: boolean): number =>
  (streaming ? (state.firstTokenMs ?? state.latencyMs) : (state.latencyMs ?? state.firstTokenMs)) ?? -1

/**
 * The order in which a request tries its candidates. `turn` counts requests, for round-robin;
 * `streaming` selects the latency that matters (time to first token for streams).
 */
export const order = (
  strategy: Strategy,
  candidates: ReadonlyArray<ProviderState>,
  turn: number,
  streaming: boolean
): Array<ProviderState> => {
  const ranked = [...candidates].sort(byRank)
  switch (strategy) {
    case "priority":
      return ranked
    case "round-robin": {
      const start = ranked.length === 0 ? 0 : turn % ranked.length
      return [...ranked.slice(start), ...ranked.slice(0, start)]
    }
    case "least-loaded":
      return ranked.sort((a, b) => a.inFlight - b.inFlight || byRank(a, b))
    case "fastest":
      return ranked.sort((a, b) => speed(a, streaming) - speed(b, streaming) || byRank(a, b))
  }
}
