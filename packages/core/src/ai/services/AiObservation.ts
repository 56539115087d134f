import { Cause, Effect, Exit, Stream } from "effect"
import { latencyBuckets, type Registry } from "../../observability/Metrics.ts"
import { canFailOver, ProviderFailure } from "../domain/AiFailures.ts"
import type { Meter } from "../domain/AiWireStream.ts"
import type { OpenedStream } from "./AiAttempts.ts"
import type * as Routing from "./AiRouting.ts"

/** One upstream call to a provider with a model, as the failover loop makes it. */
export type Attempt<A, R> = (
  state: Routing.ProviderState,
  model: string,
  deadline: number
) => Effect.Effect<A, ProviderFailure, R>

/** What the router tells the metrics and the traces about its upstream calls. */
export interface AiObservation {
  /**
   * `attempt` with one span per call (`ai.attempt`, with provider and model) and, when metrics are
   * on, its outcome and latency; an attempt that follows a failed one counts a failover from the
   * failed provider; an answer with `usage` counts its tokens. Call once per routed request.
   */
  readonly attempts: <A, R>(streaming: boolean, attempt: Attempt<A, R>) => Attempt<A, R>
  /** `opened` with its tokens counted when its `Done` event passes. */
  readonly countStream: (opened: OpenedStream) => OpenedStream
  /** `opened` (OpenAI's wire) with the tokens `meter` counted, once the stream has ended. */
  readonly countWireStream: (opened: OpenedStream<string>, meter: Meter) => OpenedStream<string>
  /**
   * The same accounting as `attempts` for a runtime that calls providers without effects (and
   * without spans: it runs only while tracing is off). One recorder per routed request.
   */
  readonly recorder: (streaming: boolean) => AttemptRecorder
  /** Counts the tokens of an answer. */
  readonly tokens: (provider: string, model: string, usage: Usage | undefined) => void
}

/** How an attempt ended: an answer (with its usage when known), a failure, or nothing (interrupted). */
export type Outcome =
  | { readonly _tag: "Answered"; readonly usage: Usage | undefined }
  | { readonly _tag: "Failed"; readonly failure: ProviderFailure | undefined }

/** Records the attempts of one routed request: `begin` one, and call what it answers when it ends. */
export interface AttemptRecorder {
  readonly begin: (provider: string, model: string) => (outcome: Outcome) => void
}

/** Token counts, as both the port's and OpenAI's wire usage carry them. */
export interface Usage {
  readonly promptTokens: number
  readonly completionTokens: number
}

// Models are the router's own choice (configured or probed), bounded again per metric.
const maxSeries = 200

const circuitStates = ["closed", "open", "half_open"] as const

const circuitOf = (state: Routing.ProviderState, now: number) =>
  now < state.openUntil ? "open" : state.openUntil > 0 ? "half_open" : "closed"

const spanned =
  <A, R>(streaming: boolean, attempt: Attempt<A, R>): Attempt<A, R> =>
  (state, model, deadline) =>
    Effect.withSpan(attempt(state, model, deadline), "ai.attempt", {
      kind: "client",
      attributes: { "ai.provider": state.provider.name, "ai.model": model, "ai.streaming": streaming }
    })

const unrecorded: AttemptRecorder = { begin: () => () => {} }

/** Spans only: the router's observation when metrics are off. */
const tracedOnly: AiObservation = {
  attempts: spanned,
  countStream: (opened) => opened,
  countWireStream: (opened) => opened,
  recorder: () => unrecorded,
  tokens: () => {}
}

const outcomeOf = (exit: Exit.Exit<unknown, unknown>): Outcome => {
  if (Exit.isSuccess(exit)) return { _tag: "Answered", usage: (exit.value as { readonly usage?: Usage }).usage }
  const failure = Cause.squash(exit.cause)
  return { _tag: "Failed", failure: failure instanceof ProviderFailure ? failure : undefined }
}

/**
 * The router's observation over its providers' `states`: AI requests by provider, model and
 * outcome, their latency and time to first token, tokens in and out, failovers, and each
 * provider's circuit-breaker state read at scrape time.
 */
export const make = (registry: Registry | undefined, states: ReadonlyArray<Routing.ProviderState>): AiObservation => {
  if (registry === undefined) return tracedOnly
  const requests = registry.counter("lunarbit_ai_requests_total", {
    help: "Upstream AI attempts, by provider, model and outcome (success or the failure kind)",
    labels: ["provider", "model", "outcome"],
    maxSeries
  })
  const perModel = (name: string, help: string) =>
    registry.histogram(name, { help, labels: ["provider", "model"], buckets: latencyBuckets, maxSeries })
  const latency = perModel(
    "lunarbit_ai_request_duration_seconds",
    "Upstream AI attempt latency (whole completion; first token for streams), by provider and model"
  )
  const firstToken = perModel(
    "lunarbit_ai_time_to_first_token_seconds",
    "Time from a streamed attempt's start to its first token, by provider and model"
  )
  const tokenCount = registry.counter("lunarbit_ai_tokens_total", {
    help: "Tokens of answered AI requests, by provider, model and direction (input, output)",
    labels: ["provider", "model", "direction"],
    maxSeries
  })
  const failovers = registry.counter("lunarbit_ai_failovers_total", {
    help: "Attempts that failed and were followed by another attempt, by the provider and model that failed",
    labels: ["provider", "model"],
    maxSeries
  })
  const circuit = registry.gauge("lunarbit_ai_circuit_state", {
    help: "Circuit-breaker state per provider: 1 for the current state (closed, open, half_open), 0 otherwise",
    labels: ["provider", "state"]
  })
  registry.onScrape(
    Effect.sync(() => {
      const now = Date.now()
      for (const state of states) {
        const current = circuitOf(state, now)
        for (const name of circuitStates) circuit.set([state.provider.name, name], name === current ? 1 : 0)
      }
    })
  )

  const tokens = (provider: string, model: string, usage: Usage | undefined) => {
    if (usage === undefined) return
    tokenCount.inc([provider, model, "input"], usage.promptTokens)
    tokenCount.inc([provider, model, "output"], usage.completionTokens)
  }

  const recorder = (streaming: boolean): AttemptRecorder => {
    // The attempt before this one, when it failed in a way the router fails over from.
    let failed: readonly [string, string] | undefined
    return {
      begin: (provider, model) => {
        if (failed !== undefined) failovers.inc(failed)
        failed = undefined
        const started = performance.now()
        return (outcome) => {
          const seconds = (performance.now() - started) / 1000
          if (outcome._tag === "Answered") {
            requests.inc([provider, model, "success"])
            latency.observe([provider, model], seconds)
            if (streaming) firstToken.observe([provider, model], seconds)
            tokens(provider, model, outcome.usage)
            return
          }
          const failure = outcome.failure
          requests.inc([provider, model, failure?.kind ?? "interrupted"])
          if (failure !== undefined && canFailOver(failure.kind)) failed = [provider, model]
        }
      }
    }
  }

  const attempts = <A, R>(streaming: boolean, attempt: Attempt<A, R>): Attempt<A, R> => {
    const recorded = recorder(streaming)
    return spanned(streaming, (state, model, deadline) => {
      const end = recorded.begin(state.provider.name, model)
      return Effect.onExit(attempt(state, model, deadline), (exit) => Effect.sync(() => end(outcomeOf(exit))))
    })
  }

  const countStream = (opened: OpenedStream): OpenedStream => {
    // An empty completion's `Done` is already in the head.
    for (const event of opened.head) if (event._tag === "Done") tokens(opened.provider, opened.model, event.usage)
    return {
      ...opened,
      rest: Stream.tap(opened.rest, (event) =>
        Effect.sync(() => {
          if (event._tag === "Done") tokens(opened.provider, opened.model, event.usage)
        })
      )
    }
  }

  const countWireStream = (opened: OpenedStream<string>, meter: Meter): OpenedStream<string> => ({
    ...opened,
    rest: Stream.onExit(opened.rest, () => Effect.sync(() => tokens(opened.provider, opened.model, meter.usage)))
  })

  return { attempts, countStream, countWireStream, recorder, tokens }
}
