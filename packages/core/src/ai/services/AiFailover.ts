import { Clock, Effect, Result } from "effect"
import * as Errors from "../../errors/Errors.ts"
import { canFailOver, type ProviderFailure } from "../domain/AiFailures.ts"
import * as Routing from "./AiRouting.ts"
import type { RouteError, Settings } from "./ModelRouter.ts"

/** What the failover loop needs from its router. */
export interface Context {
  readonly settings: Pick<Settings, "maxAttempts" | "deadlineMs">
  /** The model a provider would serve the request with; `undefined` when it has none to offer. */
  readonly modelFor: (state: Routing.ProviderState, requested: string | undefined) => string | undefined
  readonly servedModels: () => ReadonlyArray<string>
}

const retryAfterSeconds = (until: number, now: number) => Math.max(1, Math.ceil((until - now) / 1000))

/** The error of a request whose budget ran out, chosen from what its attempts ran into. */
const exhausted = (
  context: Context,
  requested: string | undefined,
  failures: ReadonlyArray<ProviderFailure>,
  candidates: ReadonlyArray<Routing.ProviderState>,
  now: number,
  deadline: number
): RouteError => {
  const attempts = failures.map((f) => ({ provider: f.provider, reason: f.kind, status: f.status ?? null }))
  if (failures.length > 0 && failures.every((f) => f.kind === "not_found")) {
    return new Errors.ModelNotAvailable({
      message: `No provider serves the model '${requested ?? "default"}'`,
      details: { model: requested ?? null, available_models: context.servedModels() }
    })
  }
  if (now >= deadline) {
    return new Errors.AiTimeout({
      message: `No AI provider answered within ${context.settings.deadlineMs} ms`,
      details: { deadline_ms: context.settings.deadlineMs, attempts }
    })
  }
  // Nothing was eligible, or everything said 429: say when to come back.
  if (failures.every((f) => f.kind === "rate_limited")) {
    const until = Math.min(...candidates.map((state) => Routing.availableAt(state, now)))
    return new Errors.AiUnavailable({
      message:
        failures.length === 0
          ? "Every AI provider for this request is cooling down or failing; retry later"
          : "Every AI provider for this request is rate limited; retry later",
      details: { retry_after: retryAfterSeconds(until, now), attempts }
    })
  }
  return new Errors.AiUpstreamError({
    message: `The AI providers failed to answer after ${failures.length} attempt(s)`,
    details: { attempts }
  })
}

/** What the failover loop does next. */
export type Step =
  | { readonly _tag: "Attempt"; readonly state: Routing.ProviderState; readonly model: string }
  | { readonly _tag: "Pause"; readonly ms: number }
  | { readonly _tag: "Exhausted"; readonly error: RouteError }

/** The decisions of one request's failover loop, for runtimes to drive with or without effects. */
export interface Plan {
  readonly deadline: number
  /** The failed attempts so far. */
  readonly failures: ReadonlyArray<ProviderFailure>
  readonly next: (now: number) => Step
  /** Records a failed attempt; answers the error that ends the request when no other attempt can help. */
  readonly failed: (state: Routing.ProviderState, model: string, failure: ProviderFailure) => RouteError | undefined
}

/**
 * The failover plan over `candidates` (already in strategy order). One budget per request, attempts
 * plus a deadline, shared by retries and fallbacks: each attempt goes to the next eligible candidate,
 * and only when all have failed once does a provider get a second try, after a pause that doubles
 * each round. Upstream calls are therefore bounded by `maxAttempts`, never multiplied.
 */
export const plan = (
  context: Context,
  candidates: ReadonlyArray<Routing.ProviderState>,
  /** The model the client named, if any. */
  request: { readonly model?: string | undefined },
  startedAt: number
): Plan => {
  const { maxAttempts, deadlineMs } = context.settings
  const deadline = startedAt + deadlineMs
  const failures: Array<ProviderFailure> = []
  let tried = new Set<Routing.ProviderState>()
  // Providers that cannot serve this request at all: retrying them would only spend the budget.
  const excluded = new Set<Routing.ProviderState>()
  let round = 0
  const exhaustedAt = (now: number): Step => ({
    _tag: "Exhausted",
    error: exhausted(context, request.model, failures, candidates, now, deadline)
  })
  return {
    deadline,
    failures,
    next: (now) => {
      if (failures.length >= maxAttempts || now >= deadline) return exhaustedAt(now)
      const eligible = candidates.filter(
        (state) =>
          !excluded.has(state) && Routing.isEligible(state, now) && context.modelFor(state, request.model) !== undefined
      )
      if (eligible.length === 0) return exhaustedAt(now)
      const state = eligible.find((candidate) => !tried.has(candidate))
      if (state === undefined) {
        round += 1
        tried = new Set()
        return { _tag: "Pause", ms: Math.min(100 * 2 ** (round - 1), deadline - now) }
      }
      tried.add(state)
      return { _tag: "Attempt", state, model: context.modelFor(state, request.model)! }
    },
    failed: (state, model, failure) => {
      failures.push(failure)
      if (!canFailOver(failure.kind)) {
        return new Errors.AiRequestRejected({
          message: `The AI provider refused the request: ${failure.message}`,
          details: { provider: failure.provider, upstream_status: failure.status ?? null }
        })
      }
      if (failure.kind === "not_found" || failure.kind === "auth") excluded.add(state)
      if (failure.kind === "not_found" && state.models !== undefined) {
        state.models = state.models.filter((known) => known !== model)
      }
      return undefined
    }
  }
}

/** The failover loop of {@link plan}, with one effect per upstream call (`attempt`). */
export const run = <A, R>(
  context: Context,
  candidates: ReadonlyArray<Routing.ProviderState>,
  /** The model the client named, if any. */
  request: { readonly model?: string | undefined },
  /** One upstream call to `state` with `model`, the one it serves the request with. */
  attempt: (state: Routing.ProviderState, model: string, deadline: number) => Effect.Effect<A, ProviderFailure, R>
): Effect.Effect<{ readonly value: A; readonly attempts: number }, RouteError, R> =>
  Effect.gen(function* () {
    const steps = plan(context, candidates, request, yield* Clock.currentTimeMillis)
    while (true) {
      const step = steps.next(yield* Clock.currentTimeMillis)
      if (step._tag === "Exhausted") return yield* Effect.fail(step.error)
      if (step._tag === "Pause") {
        yield* Effect.sleep(step.ms)
        continue
      }
      const result = yield* Effect.result(attempt(step.state, step.model, steps.deadline))
      if (Result.isSuccess(result)) return { value: result.success, attempts: steps.failures.length + 1 }
      const final = steps.failed(step.state, step.model, result.failure)
      if (final !== undefined) return yield* Effect.fail(final)
    }
  })
