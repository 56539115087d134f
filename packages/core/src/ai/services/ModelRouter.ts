import { Clock, Context, Effect, Layer, Scope } from "effect"
import { GatewayConfig } from "../../config/GatewayConfig.ts"
import * as Errors from "../../errors/Errors.ts"
import { Metrics } from "../../observability/Metrics.ts"
import type { ProviderFailure } from "../domain/AiFailures.ts"
import type { Meter } from "../domain/AiWireStream.ts"
import * as OpenAiWire from "../domain/OpenAiWire.ts"
import type { AIProviderShape, ChatRequest, CountedCompletion } from "../ports/AIProvider.ts"
import * as ProviderHttp from "../ports/ProviderHttp.ts"
import { attemptCall, attemptStream, type OpenedStream } from "./AiAttempts.ts"
import * as AiFailover from "./AiFailover.ts"
import * as AiForwarding from "./AiForwarding.ts"
import * as AiHealth from "./AiHealth.ts"
import * as AiObservation from "./AiObservation.ts"
import * as AiProviders from "./AiProviders.ts"
import * as Routing from "./AiRouting.ts"

export type { OpenedStream } from "./AiAttempts.ts"

/** A chat request before routing: the model is optional, the router picks providers and models. */
export interface RouteRequest extends Omit<ChatRequest, "model"> {
  readonly model?: string | undefined
}

/** A completion with the provider that produced it and the attempts it took. */
export interface RoutedCompletion extends CountedCompletion {
  readonly provider: string
  readonly attempts: number
}

/** An OpenAI-wire answer with the provider that produced it. */
export interface RoutedWireCompletion extends OpenAiWire.Completion {
  readonly usage: OpenAiWire.Usage
  readonly provider: string
}

/** Every way a routed request can fail, each rendered in the spec's error envelope. */
export type RouteError =
  | Errors.AiNotConfigured
  | Errors.ModelNotAvailable
  | Errors.AiUnavailable
  | Errors.AiUpstreamError
  | Errors.AiTimeout
  | Errors.AiRequestRejected

/** Budget, time limits and breaker settings of the router; see `docs/ai-gateway.md`. */
export interface Settings {
  readonly strategy: Routing.Strategy
  /** Upstream calls per request, retries and fallbacks together. */
  readonly maxAttempts: number
  /** Time from the request's start to its answer (the first token, for streams). */
  readonly deadlineMs: number
  readonly attemptTimeoutMs: number
  readonly firstTokenTimeoutMs: number
  readonly idleTimeoutMs: number
  readonly healthIntervalMs: number
  readonly probeTimeoutMs: number
  readonly breaker: Routing.BreakerSettings
}

/** The defaults of `AiConfig`, for routers built without the configuration (tests, embedders). */
export const defaultSettings: Settings = {
  strategy: "priority",
  maxAttempts: 3,
  deadlineMs: 60_000,
  attemptTimeoutMs: 60_000,
  firstTokenTimeoutMs: 15_000,
  idleTimeoutMs: 30_000,
  healthIntervalMs: 30_000,
  probeTimeoutMs: 3_000,
  breaker: { failureThreshold: 5, cooldownMs: 30_000, defaultRetryAfterMs: 1_000 }
}

/** One provider in `GET /ai/status`. */
export interface ProviderStatus {
  readonly name: string
  readonly available: boolean
  readonly models: ReadonlyArray<string>
  readonly circuit: "closed" | "open" | "half_open"
}

/** `GET /ai/status`. */
export interface Status {
  readonly enabled: boolean
  readonly strategy: Routing.Strategy
  readonly providers: ReadonlyArray<ProviderStatus>
  readonly models: ReadonlyArray<string>
}

/** Routes chat completions to providers with failover; see `docs/ai-gateway.md`. */
export interface ModelRouterShape {
  readonly enabled: boolean
  readonly chat: (request: RouteRequest) => Effect.Effect<RoutedCompletion, RouteError>
  /**
   * Opens a stream on the first provider that produces a first token, failing over until then.
   * The stream's upstream lives in the caller's scope: close it to cancel the upstream request.
   */
  readonly stream: (request: RouteRequest) => Effect.Effect<OpenedStream, RouteError, Scope.Scope>
  /** OpenAI's chat completions for `/v1`, the body forwarded with only the model name mapped. */
  readonly completions: (body: OpenAiWire.Body) => Effect.Effect<RoutedWireCompletion, RouteError>
  /**
   * The streamed form: whole SSE events, failing over until the first ones arrived; the tokens are
   * counted in `meter` as the stream goes, so a stream cut short still has its cost known.
   */
  readonly streamCompletions: (
    body: OpenAiWire.Body,
    meter: Meter
  ) => Effect.Effect<OpenedStream<string>, RouteError, Scope.Scope>
  /** OpenAI's embeddings, forwarded to a provider that serves the model. */
  readonly embeddings: (body: OpenAiWire.Request) => Effect.Effect<RoutedWireCompletion, RouteError>
  /** Providers, their availability from cached health probes, and their models. */
  readonly status: Effect.Effect<Status>
  /**
   * `/v1/chat/completions` without effects per request, for runtimes that serve it so; present only
   * when every provider forwards bodies as they are (see `AiForwarding`).
   */
  readonly forwarder?: AiForwarding.Forwarder | undefined
  /** Every model served, with the provider that serves it first in priority order. */
  readonly models: Effect.Effect<ReadonlyArray<{ readonly id: string; readonly provider: string }>>
}

/** The gateway's router over its AI providers. */
export class ModelRouter extends Context.Service<ModelRouter, ModelRouterShape>()(
  "@lunarbit/gateway-core/ModelRouter"
) {}

/**
 * Providers registered through the public API, routed after those built from the configuration.
 * Provide it with `registerProviders` next to the ports.
 */
export const CustomProviders = Context.Reference<ReadonlyArray<AIProviderShape>>(
  "@lunarbit/gateway-core/CustomProviders",
  { defaultValue: () => [] }
)

/**
 * The `fetch` the configured providers' SDKs use; the global one by default. A runtime adapter may
 * supply a faster one (on Node, a keep-alive `node:http` fetch spends less per upstream call than
 * the built-in one).
 */
export const ProviderFetch = Context.Reference<typeof globalThis.fetch | undefined>(
  "@lunarbit/gateway-core/ProviderFetch",
  { defaultValue: () => undefined }
)

/** Registers custom providers (built with `AIProvider.make` or `AIProvider.fromPromises`) with the gateway. */
export const registerProviders = (...providers: ReadonlyArray<AIProviderShape>): Layer.Layer<never> =>
  Layer.succeed(CustomProviders, providers) as Layer.Layer<never>

/** The router over `providers`, in priority order. */
export const make = (providers: ReadonlyArray<AIProviderShape>, settings: Settings = defaultSettings) =>
  Effect.gen(function* () {
    const states = providers.map(Routing.makeState)
    const health = yield* AiHealth.make(states, settings)
    const observation = AiObservation.make(yield* Metrics, states)
    let turn = 0

    const modelFor = (state: Routing.ProviderState, requested: string | undefined) =>
      requested ?? state.provider.defaultModel ?? state.models?.[0]

    const servedModels = () => [...new Set(states.flatMap((state) => state.models ?? []))]

    const notConfigured = () =>
      new Errors.AiNotConfigured({
        message: "No AI provider is configured on this gateway",
        details: {
          hint: "Set LMSTUDIO_ENABLED, OPENAI_API_KEY, ANTHROPIC_API_KEY or AZURE_OPENAI_* (docs: AI gateway)"
        }
      })

    // The candidates once the providers' models are known, or why there are none.
    const candidatesOf = (requested: string | undefined): ReadonlyArray<Routing.ProviderState> | RouteError => {
      if (states.length === 0) return notConfigured()
      if (requested === undefined) {
        const withDefault = states.filter((state) => modelFor(state, undefined) !== undefined)
        if (withDefault.length > 0) return withDefault
        return new Errors.AiUnavailable({
          message: "No AI provider has a default model yet (none answered its health probe); name a model",
          details: { providers: states.map((state) => state.provider.name) }
        })
      }
      // A provider whose models are not known yet may serve it; an upstream 404 will tell.
      const serving = states.filter((state) => state.models === undefined || state.models.includes(requested))
      if (serving.length === 0) {
        return new Errors.ModelNotAvailable({
          message: `No provider serves the model '${requested}'`,
          details: { model: requested, available_models: servedModels() }
        })
      }
      return serving
    }

    const candidatesFor = (requested: string | undefined) =>
      states.length === 0
        ? Effect.fail(notConfigured())
        : Effect.flatMap(health.ensureKnown, () => {
            const candidates = candidatesOf(requested)
            return Array.isArray(candidates)
              ? Effect.succeed(candidates as ReadonlyArray<Routing.ProviderState>)
              : Effect.fail(candidates as RouteError)
          })

    const failover = { settings, modelFor, servedModels }

    const route = <A, R>(
      request: { readonly model?: string | undefined },
      streaming: boolean,
      attempt: (state: Routing.ProviderState, model: string, deadline: number) => Effect.Effect<A, ProviderFailure, R>
    ) =>
      Effect.flatMap(candidatesFor(request.model), (candidates) =>
        AiFailover.run(
          failover,
          Routing.order(settings.strategy, candidates, turn++, streaming),
          request,
          observation.attempts(streaming, attempt)
        )
      )

    const limitsAt = (deadline: number, now: number) => {
      const left = Math.max(0, deadline - now)
      return {
        timeout: Math.min(settings.attemptTimeoutMs, left),
        firstTokenTimeout: Math.min(settings.firstTokenTimeoutMs, left),
        idleTimeout: settings.idleTimeoutMs
      }
    }

    const chat = (request: RouteRequest) =>
      route(request, false, (state, model, deadline) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          attemptCall(
            state,
            Effect.map(state.provider.chat({ ...request, model }, limitsAt(deadline, now)), (completion) => ({
              ...completion,
              provider: state.provider.name
            })),
            settings.breaker
          )
        )
      ).pipe(
        Effect.map(({ value, attempts }): RoutedCompletion => ({ ...value, attempts })),
        Effect.withSpan("ModelRouter.chat")
      )

    const stream = (request: RouteRequest) =>
      Effect.gen(function* () {
        const scope = yield* Scope.Scope
        const opened = yield* route(request, true, (state, model, deadline) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            attemptStream(
              state,
              model,
              state.provider.stream({ ...request, model }, limitsAt(deadline, now)),
              settings.breaker,
              scope
            )
          )
        )
        return observation.countStream(opened.value)
      })

    // One non-streamed wire call with failover: chat completions or embeddings.
    const forward =
      (
        call: (
          provider: AIProviderShape
        ) => (
          body: OpenAiWire.Request,
          limits: ReturnType<typeof limitsAt>
        ) => Effect.Effect<OpenAiWire.Completion & { readonly usage: OpenAiWire.Usage }, ProviderFailure>,
        span: string
      ) =>
      (body: OpenAiWire.Request) =>
        route(body, false, (state, model, deadline) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            attemptCall(
              state,
              Effect.map(
                call(state.provider)(OpenAiWire.withModel(body, model), limitsAt(deadline, now)),
                (completion) => ({ ...completion, provider: state.provider.name })
              ),
              settings.breaker
            )
          )
        ).pipe(
          Effect.map(({ value }) => value),
          Effect.withSpan(span)
        )

    const completions = forward(
      (provider) => (body, limits) => provider.completions.complete(body as OpenAiWire.Body, limits),
      "ModelRouter.completions"
    )
    const embeddings = forward((provider) => provider.embeddings, "ModelRouter.embeddings")

    const streamCompletions = (body: OpenAiWire.Body, meter: Meter) =>
      Effect.gen(function* () {
        const scope = yield* Scope.Scope
        const opened = yield* route(body, true, (state, model, deadline) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            // A failed attempt's partial count is not the client's: each attempt starts from zero.
            meter.usage = undefined
            meter.forwarded.length = 0
            const limits = limitsAt(deadline, now)
            const events = state.provider.completions.stream(OpenAiWire.withModel(body, model), { limits, meter })
            return attemptStream(state, model, events, settings.breaker, scope)
          })
        )
        return observation.countWireStream(opened.value, meter)
      })

    const status = Effect.gen(function* () {
      yield* health.refresh
      const now = yield* Clock.currentTimeMillis
      return {
        enabled: states.length > 0,
        strategy: settings.strategy,
        providers: states.map(
          (state): ProviderStatus => ({
            name: state.provider.name,
            available: state.probeOk && Routing.isEligible(state, now),
            models: state.models ?? [],
            circuit: now < state.openUntil ? "open" : state.openUntil > 0 ? "half_open" : "closed"
          })
        ),
        models: servedModels()
      }
    })

    const models = Effect.gen(function* () {
      yield* health.refresh
      const seen = new Map<string, string>()
      for (const state of states)
        for (const id of state.models ?? []) if (!seen.has(id)) seen.set(id, state.provider.name)
      return [...seen].map(([id, provider]) => ({ id, provider }))
    })

    const forwarder = AiForwarding.make({
      states,
      settings,
      failover,
      observation,
      candidatesOf,
      nextTurn: () => turn++,
      refreshIfStale: () => {
        const now = Date.now()
        if (states.some((state) => now - (state.probedAt ?? 0) >= settings.healthIntervalMs)) {
          Effect.runFork(health.refresh)
        }
      }
    })

    return ModelRouter.of({
      enabled: states.length > 0,
      forwarder,
      chat,
      stream,
      completions,
      streamCompletions,
      embeddings,
      status,
      models
    })
  })

/** The router over the providers of the configuration, then the registered custom ones. */
export const layer: Layer.Layer<ModelRouter, never, GatewayConfig> = Layer.effect(
  ModelRouter,
  Effect.gen(function* () {
    const config = yield* GatewayConfig
    const custom = yield* CustomProviders
    const fetch = yield* ProviderFetch
    const http =
      (yield* ProviderHttp.ProviderHttp) ??
      ProviderHttp.fromFetch(fetch ?? ((input, init) => globalThis.fetch(input, init)))
    const configured = AiProviders.fromConfig(config, { fetch, http })
    const providers = AiProviders.prioritize([...configured, ...custom], config.ai.providerPriority)
    return yield* make(providers, AiProviders.settingsFromConfig(config))
  })
)
