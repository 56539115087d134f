import { Context, Duration, Effect, Exit, Stream } from "effect"
import * as AiFailures from "../domain/AiFailures.ts"
import { guard } from "../domain/AiStreamGuard.ts"
import * as AiTimeLimits from "../domain/AiTimeLimits.ts"
import * as AiTokens from "../domain/AiTokens.ts"
import * as AiWireStream from "../domain/AiWireStream.ts"
import * as AiWireTranslation from "../domain/AiWireTranslation.ts"
import * as OpenAiWire from "../domain/OpenAiWire.ts"
import type { ForwardTarget } from "./ProviderHttp.ts"

/** Failures of an upstream attempt, classified (see `services/AiFailures.ts`). */
export { type Classified, type FailureKind, ProviderFailure } from "../domain/AiFailures.ts"

/** One chat message, in the roles every provider understands; adapters translate them to their wire. */
export interface ChatMessage {
  readonly role: "system" | "user" | "assistant"
  readonly content: string
}

/** Asks for JSON matching `schema` (a JSON Schema): structured outputs on OpenAI, the prompt elsewhere. */
export interface JsonOutput {
  readonly name: string
  readonly schema: Readonly<Record<string, unknown>>
}

/** One completion request for one provider; the router has already chosen the model. */
export interface ChatRequest {
  readonly model: string
  readonly messages: ReadonlyArray<ChatMessage>
  /** Absent: the provider's default. */
  readonly temperature?: number | undefined
  /** Absent: the provider's default (Anthropic, which requires one, gets 4096). */
  readonly maxTokens?: number | undefined
  readonly topP?: number | undefined
  readonly stop?: ReadonlyArray<string> | undefined
  readonly jsonOutput?: JsonOutput | undefined
}

/** Tokens of one completion, as the provider counts them (or as counted locally). */
export interface TokenUsage {
  readonly promptTokens: number
  readonly completionTokens: number
  readonly totalTokens: number
}

/** What an adapter answers for a completion; `usage` only when the provider reported it. */
export interface Completion {
  readonly text: string
  readonly model: string
  readonly finishReason: string
  readonly usage?: TokenUsage | undefined
}

/** One piece of a streamed completion as an adapter reads it off the wire; every field is optional. */
export interface StreamChunk {
  readonly text?: string | undefined
  readonly model?: string | undefined
  readonly finishReason?: string | undefined
  readonly usage?: TokenUsage | undefined
  /** An error the provider sent inside the stream: the stream fails with it after the chunks before it. */
  readonly error?: unknown
}

/** A completion as the port answers it: usage is always there, counted locally when the provider omitted it. */
export interface CountedCompletion extends Completion {
  readonly usage: TokenUsage
  readonly usageCounted: boolean
}

/** What the port's streams emit: text deltas, then exactly one `Done`. A stream without `Done` failed. */
export type StreamEvent =
  | { readonly _tag: "Delta"; readonly text: string }
  | {
      readonly _tag: "Done"
      readonly model: string
      readonly finishReason: string
      readonly usage: TokenUsage
      readonly usageCounted: boolean
    }

/** Time limits of one attempt; the router derives them from the request's remaining budget. */
export interface AttemptLimits {
  /** A whole non-streamed completion. */
  readonly timeout: Duration.Input
  /** A stream's first token: a slow upstream is abandoned while failing over is still possible. */
  readonly firstTokenTimeout: Duration.Input
  /** The longest silence between two chunks of a stream once it has started. */
  readonly idleTimeout: Duration.Input
}

/** Limits for callers outside the router; the router derives its own from each request's budget. */
export const defaultLimits: AttemptLimits = {
  timeout: "60 seconds",
  firstTokenTimeout: "15 seconds",
  idleTimeout: "30 seconds"
}

/**
 * OpenAI's chat-completions wire, which `/v1/chat/completions` speaks: forwarded as is by hosts that
 * speak it, translated by adapters that do not. Failures may be anything, as for `Minimal`.
 */
export interface CompletionsWire {
  /** OpenAI's `chat.completion` JSON for `body`, as the upstream wrote it. */
  readonly complete: (body: OpenAiWire.Body) => Effect.Effect<OpenAiWire.Completion, unknown>
  /** OpenAI's SSE text for `body` (which asks for usage) as it arrives: events may be split anywhere. */
  readonly stream: (body: OpenAiWire.Body) => Stream.Stream<string, unknown>
  /**
   * Whether streams may ask for usage (`stream_options.include_usage`, added when the client did not
   * ask); `false` for the few hosts that reject it, whose streams are then counted locally.
   */
  readonly streamUsage?: boolean | undefined
  /**
   * Where the host takes the client's body as it is, when it speaks OpenAI's wire: the router may
   * then forward requests itself, without effects per request (see `AiForwarding`).
   */
  readonly target?: ForwardTarget | undefined
}

/** A provider's host for bodies forwarded as they are, and how its failures and limits are told. */
export interface Forwarding {
  readonly target: ForwardTarget
  /** Whether streams may ask for usage; see {@link CompletionsWire.streamUsage}. */
  readonly streamUsage: boolean
  /** The provider's failure for an upstream error answer or a thrown error. */
  readonly fail: (error: unknown) => AiFailures.ProviderFailure
  /** The failure of an attempt that outlived `limitMs`. */
  readonly timedOut: (what: string, limitMs: number) => AiFailures.ProviderFailure
}

/** How one forwarded stream is read: its limits, where its tokens are counted, what to remove. */
export interface WireStreamOptions {
  readonly limits: AttemptLimits
  readonly meter: AiWireStream.Meter
}

/** The wire of a provider as the router uses it: typed failures, time limits, usage always known. */
export interface CompletionsWireShape {
  readonly complete: (
    body: OpenAiWire.Body,
    limits?: AttemptLimits
  ) => Effect.Effect<OpenAiWire.Completion & { readonly usage: OpenAiWire.Usage }, AiFailures.ProviderFailure>
  /** Whole SSE events, the usage chunk only when `body` asked for it. */
  readonly stream: (
    body: OpenAiWire.Body,
    options: WireStreamOptions
  ) => Stream.Stream<string, AiFailures.ProviderFailure>
}

/**
 * The wire calls of one provider: all an adapter writes. Failures may be anything its SDK throws;
 * `make` classifies them (pass `classify` when the default reading is wrong for a wire).
 */
export interface Minimal {
  /** The provider's name in `/ai/status`, routing and logs, e.g. `openai`, `lmstudio`. */
  readonly name: string
  /** The model used when a request names none; otherwise the first model the provider lists. */
  readonly defaultModel?: string | undefined
  readonly chat: (request: ChatRequest) => Effect.Effect<Completion, unknown>
  /** Must end with a chunk carrying `finishReason`: a stream that ends without one is reported as cut. */
  readonly stream: (request: ChatRequest) => Stream.Stream<StreamChunk, unknown>
  readonly models: Effect.Effect<ReadonlyArray<string>, unknown>
  /** A cheap liveness probe, run before listing the models; listing them is the probe when absent. */
  readonly health?: Effect.Effect<void, unknown> | undefined
  readonly classify?: ((error: unknown) => AiFailures.Classified) | undefined
  /** OpenAI's wire; absent, it is translated onto `chat` and `stream` (fields they cannot carry are refused). */
  readonly completions?: CompletionsWire | undefined
  /** OpenAI's embeddings JSON for `body`; absent when the provider serves none. */
  readonly embeddings?: ((body: OpenAiWire.Request) => Effect.Effect<OpenAiWire.Completion, unknown>) | undefined
}

/** A provider as the router uses it: typed failures, time limits, usage always present. */
export interface AIProviderShape {
  readonly name: string
  readonly defaultModel: string | undefined
  readonly chat: (
    request: ChatRequest,
    limits?: AttemptLimits
  ) => Effect.Effect<CountedCompletion, AiFailures.ProviderFailure>
  readonly stream: (
    request: ChatRequest,
    limits?: AttemptLimits
  ) => Stream.Stream<StreamEvent, AiFailures.ProviderFailure>
  readonly models: Effect.Effect<ReadonlyArray<string>, AiFailures.ProviderFailure>
  readonly health: Effect.Effect<void, AiFailures.ProviderFailure>
  /** The health probe the router caches: health, then the models the provider serves now. */
  readonly probe: (timeout: Duration.Input) => Effect.Effect<ReadonlyArray<string>, AiFailures.ProviderFailure>
  /** OpenAI's chat-completions wire, for `/v1/chat/completions`. */
  readonly completions: CompletionsWireShape
  /** OpenAI's embeddings; a provider without them fails `not_found`, so the router looks further. */
  readonly embeddings: (
    body: OpenAiWire.Request,
    limits?: AttemptLimits
  ) => Effect.Effect<OpenAiWire.Completion & { readonly usage: OpenAiWire.Usage }, AiFailures.ProviderFailure>
  /** Present when `/v1/chat/completions` is forwarded to an OpenAI-compatible host as it is. */
  readonly forwarding?: Forwarding | undefined
}

/** One provider, for code that works with a single one; the gateway's `ModelRouter` holds several. */
export class AIProvider extends Context.Service<AIProvider, AIProviderShape>()("@lunarbit/gateway-core/AIProvider") {}

/**
 * Builds a provider from its wire calls and adds what every provider needs: failure classification,
 * per-attempt time limits (first token and idle gaps for streams), detection of streams that end
 * without finishing, local token counting when the provider reports no usage, and tracing spans.
 */
export const make = (minimal: Minimal): AIProviderShape => {
  const name = minimal.name
  const classify = minimal.classify ?? AiFailures.classify
  const fail = (error: unknown) => new AiFailures.ProviderFailure({ provider: name, ...classify(error) })
  const timedOutAfter = (what: string, limitMs: number) =>
    new AiFailures.ProviderFailure({
      provider: name,
      kind: "timeout",
      message: `${what} took longer than ${limitMs} ms`
    })
  const timedOut = (what: string, limit: Duration.Input) =>
    timedOutAfter(what, Duration.toMillis(Duration.fromInputUnsafe(limit)))
  // One whole upstream call: its failures classified, abandoned past `limit`.
  const bounded = <A>(call: Effect.Effect<A, unknown>, what: string, limit: Duration.Input) =>
    AiTimeLimits.timeoutOrElse(Effect.mapError(call, fail), limit, () => Effect.fail(timedOut(what, limit)))

  const chat = (request: ChatRequest, limits: AttemptLimits = defaultLimits) =>
    bounded(minimal.chat(request), "The completion", limits.timeout).pipe(
      Effect.map(
        (completion): CountedCompletion =>
          completion.usage === undefined
            ? { ...completion, usage: AiTokens.countUsage(request.messages, completion.text), usageCounted: true }
            : { ...completion, usage: completion.usage, usageCounted: false }
      ),
      Effect.withSpan("AIProvider.chat", { attributes: { provider: name, model: request.model } })
    )

  const stream = (request: ChatRequest, limits: AttemptLimits = defaultLimits) =>
    guard(name, Stream.mapError(minimal.stream(request), fail), fail, request, limits).pipe(
      Stream.withSpan("AIProvider.stream", { attributes: { provider: name, model: request.model } })
    )

  const models = Effect.mapError(minimal.models, fail)
  // Listing the models is the health check of a provider that has no cheaper one.
  const health = Effect.mapError(minimal.health ?? Effect.asVoid(minimal.models), fail)
  const probe = (timeout: Duration.Input) =>
    bounded(
      minimal.health === undefined ? minimal.models : Effect.andThen(minimal.health, minimal.models),
      "The health probe",
      timeout
    )

  const wire = minimal.completions ?? AiWireTranslation.fromChat(name, chat, stream)
  const completions: CompletionsWireShape = {
    complete: (body, limits = defaultLimits) =>
      bounded(wire.complete(body), "The completion", limits.timeout).pipe(
        Effect.map((completion) => ({
          ...completion,
          usage: completion.usage ?? AiWireTranslation.countCompletion(body, completion.json)
        })),
        Effect.withSpan("AIProvider.completions", { attributes: { provider: name, model: body.model } })
      ),
    stream: (body, options) =>
      AiWireStream.scan(
        Stream.mapError(wire.stream(wire.streamUsage === false ? body : OpenAiWire.askingUsage(body)), fail),
        {
          provider: name,
          classify: fail,
          limits: options.limits,
          meter: options.meter,
          stripUsage: !OpenAiWire.wantsUsage(body)
        }
      ).pipe(Stream.withSpan("AIProvider.completionsStream", { attributes: { provider: name, model: body.model } }))
  }

  const embed = minimal.embeddings
  const embeddings = (body: OpenAiWire.Request, limits: AttemptLimits = defaultLimits) =>
    embed === undefined
      ? Effect.fail(
          new AiFailures.ProviderFailure({ provider: name, kind: "not_found", message: `${name} serves no embeddings` })
        )
      : bounded(embed(body), "The embeddings", limits.timeout).pipe(
          // Embeddings cost only their input; a provider that reports nothing is counted as nothing.
          Effect.map((answer) => ({
            ...answer,
            usage: answer.usage ?? { promptTokens: 0, completionTokens: 0, totalTokens: 0 }
          })),
          Effect.withSpan("AIProvider.embeddings", { attributes: { provider: name, model: body.model } })
        )

  const target = minimal.completions?.target
  const forwarding =
    target === undefined
      ? undefined
      : { target, streamUsage: minimal.completions?.streamUsage !== false, fail, timedOut: timedOutAfter }
  return {
    name,
    defaultModel: minimal.defaultModel,
    chat,
    stream,
    models,
    health,
    probe,
    completions,
    embeddings,
    forwarding
  }
}

/**
 * A stream over an SDK's async iterable, opened with an `AbortSignal` that is aborted when the stream
 * is closed early (a client that went away, a timeout), so the upstream request is cancelled.
 */
export const streamFrom = <A>(open: (signal: AbortSignal) => Promise<AsyncIterable<A>>): Stream.Stream<A, unknown> =>
  Stream.unwrap(
    Effect.gen(function* () {
      // Aborted only when the stream did not run to its end: aborting a finished request costs a
      // DOMException with its stack trace, on every request.
      const controller = yield* Effect.acquireRelease(
        Effect.sync(() => new AbortController()),
        (controller, exit) => (Exit.isSuccess(exit) ? Effect.void : Effect.sync(() => controller.abort()))
      )
      const iterable = yield* Effect.tryPromise({ try: () => open(controller.signal), catch: (error) => error })
      return Stream.fromAsyncIterable(iterable, (error) => error)
    })
  )

/** The wire calls of a provider written with promises, as in the spec's `AIProvider` interface. */
export interface PromiseMinimal {
  readonly name: string
  readonly defaultModel?: string | undefined
  readonly chatCompletion: (request: ChatRequest, signal: AbortSignal) => Promise<Completion>
  /** Yields text deltas (strings) or chunks; must end with a chunk carrying `finishReason`. */
  readonly streamCompletion: (request: ChatRequest, signal: AbortSignal) => AsyncIterable<string | StreamChunk>
  readonly getModels: (signal: AbortSignal) => Promise<ReadonlyArray<string>>
  readonly isHealthy?: ((signal: AbortSignal) => Promise<boolean>) | undefined
}

/**
 * A provider written with promises and async iterables. Plain strings yielded by `streamCompletion`
 * are text deltas; its clean end counts as the finish, since such providers have no finish event.
 */
export const fromPromises = (provider: PromiseMinimal): AIProviderShape => {
  const isHealthy = provider.isHealthy
  return make({
    name: provider.name,
    defaultModel: provider.defaultModel,
    chat: (request) =>
      Effect.tryPromise({ try: (signal) => provider.chatCompletion(request, signal), catch: (e) => e }),
    stream: (request) =>
      Stream.suspend(() => {
        let finished = false
        const chunks = Stream.map(
          streamFrom((signal) => Promise.resolve(provider.streamCompletion(request, signal))),
          (item: string | StreamChunk): StreamChunk => {
            const chunk = typeof item === "string" ? { text: item } : item
            if (chunk.finishReason !== undefined) finished = true
            return chunk
          }
        )
        const finish: ReadonlyArray<StreamChunk> = [{ finishReason: "stop" }]
        const end = Stream.suspend(() => Stream.fromIterable(finished ? [] : finish))
        return Stream.concat(chunks, end)
      }),
    models: Effect.tryPromise({ try: (signal) => provider.getModels(signal), catch: (e) => e }),
    health:
      isHealthy === undefined
        ? undefined
        : Effect.flatMap(Effect.tryPromise({ try: (signal) => isHealthy(signal), catch: (e) => e }), (healthy) =>
            healthy ? Effect.void : Effect.fail(new Error(`${provider.name} reports itself unhealthy`))
          )
  })
}
