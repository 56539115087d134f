import { Array as Arr, Effect, Layer, Redacted, Stream } from "effect"
import type { Sse } from "effect/encoding"
import type OpenAI from "openai"
import { propagationHeaders } from "../../observability/Tracing.ts"
import * as AIProvider from "../ports/AIProvider.ts"
import * as ProviderHttp from "../ports/ProviderHttp.ts"
import * as AiSse from "../services/AiSse.ts"
import * as OpenAiPassThrough from "./OpenAiPassThrough.ts"
import { onFirstUse } from "./SdkClient.ts"

/** How a host spells the completion length limit: OpenAI's current name, or the one other hosts read. */
export type MaxTokensField = "max_tokens" | "max_completion_tokens"

/** Where and how to reach an OpenAI-compatible host. */
export interface Options {
  /** The provider's name in routing and `/ai/status`: `openai`, `lmstudio`, `groq`... */
  readonly name: string
  /** The API root, including `/v1` (e.g. `https://api.openai.com/v1`, `http://localhost:1234/v1`). */
  readonly baseUrl: string
  /** Hosts without authentication (LM Studio, Ollama) need none. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly defaultModel?: string | undefined
  readonly maxTokensField?: MaxTokensField | undefined
  /** Whether to ask for usage in streams (`stream_options.include_usage`); a few hosts reject it. */
  readonly streamUsage?: boolean | undefined
  /** A `fetch` to use instead of the global one (a proxy, a Workers binding). */
  readonly fetch?: typeof globalThis.fetch | undefined
  /** The HTTP client `/v1/chat/completions` is forwarded with; `fetch` when absent. */
  readonly http?: ProviderHttp.ProviderHttpShape | undefined
}

type Params = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming

/** The request body of one chat completion, shared by the OpenAI and Azure OpenAI wires. */
export const toParams = (request: AIProvider.ChatRequest, maxTokensField: MaxTokensField): Params => ({
  model: request.model,
  messages: request.messages.map((message) => ({ role: message.role, content: message.content })),
  ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
  ...(request.maxTokens === undefined ? {} : { [maxTokensField]: request.maxTokens }),
  ...(request.topP === undefined ? {} : { top_p: request.topP }),
  ...(request.stop === undefined ? {} : { stop: [...request.stop] }),
  ...(request.jsonOutput === undefined
    ? {}
    : {
        response_format: {
          type: "json_schema",
          json_schema: { name: request.jsonOutput.name, schema: { ...request.jsonOutput.schema }, strict: true }
        }
      })
})

const usageOf = (usage: OpenAI.CompletionUsage | null | undefined): AIProvider.TokenUsage | undefined =>
  usage == null
    ? undefined
    : { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, totalTokens: usage.total_tokens }

/**
 * One event of OpenAI's stream: a chunk, `[DONE]`, or an error (a `data:` with `error`, or an event
 * named `error`), which fails the stream where it stands.
 */
export const chunkOf = (event: Sse.Event): AIProvider.StreamChunk => {
  if (event.data === "[DONE]") return {}
  const parsed = AiSse.json(event)
  if ("error" in parsed) return { error: parsed.error }
  const data = parsed.value as OpenAI.Chat.ChatCompletionChunk & { readonly error?: unknown }
  if (event.event === "error" || data.error != null) return { error: { error: data.error ?? data } }
  const choice = data.choices?.[0]
  return {
    text: choice?.delta?.content ?? undefined,
    model: data.model,
    finishReason: choice?.finish_reason ?? undefined,
    usage: usageOf(data.usage)
  }
}

/**
 * The wire calls over an OpenAI client: chat completions, streamed with usage, and the model list.
 * The client must be built with `maxRetries: 0`, since the router owns retries.
 */
export const minimal = (
  client: () => Promise<OpenAI>,
  options: Pick<Options, "name" | "defaultModel" | "maxTokensField" | "streamUsage"> & {
    readonly models: Effect.Effect<ReadonlyArray<string>, unknown>
  }
): AIProvider.Minimal => {
  const field = options.maxTokensField ?? "max_tokens"
  const streamUsage = options.streamUsage ?? true
  return {
    name: options.name,
    defaultModel: options.defaultModel,
    chat: (request) =>
      Effect.flatMap(propagationHeaders, (headers) =>
        Effect.tryPromise({
          try: (signal) =>
            client().then((openai) => openai.chat.completions.create(toParams(request, field), { signal, headers })),
          catch: (error) => error
        })
      ).pipe(
        Effect.map((completion) => {
          const choice = completion.choices[0]
          return {
            text: choice?.message.content ?? "",
            model: completion.model,
            finishReason: choice?.finish_reason ?? "stop",
            usage: usageOf(completion.usage)
          }
        })
      ),
    // The SDK sends the request and turns error statuses into its errors; the body is read in
    // batches rather than through the SDK's per-event iterator, which costs a promise per event.
    stream: (request) =>
      Stream.unwrap(
        Effect.map(propagationHeaders, (headers) =>
          AiSse.fromResponse((signal) =>
            client().then((openai) =>
              openai.chat.completions
                .create(
                  {
                    ...toParams(request, field),
                    stream: true,
                    ...(streamUsage ? { stream_options: { include_usage: true } } : {})
                  },
                  { signal, headers }
                )
                .asResponse()
            )
          )
        )
      ).pipe(Stream.mapArray((events) => Arr.map(events, chunkOf))),
    models: options.models
  }
}

/** An OpenAI client for `options`, made on its first use, reading nothing from the environment. */
export const client = (options: Options): (() => Promise<OpenAI>) =>
  onFirstUse(async () => {
    const { default: OpenAI } = await import("openai")
    return new OpenAI({
      apiKey: options.apiKey === undefined ? "unused" : Redacted.value(options.apiKey),
      baseURL: options.baseUrl.replace(/\/+$/, ""),
      organization: null,
      project: null,
      maxRetries: 0,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch })
    })
  })

/** The HTTP client of `options`: theirs, or one over their `fetch` (the global one by default). */
export const httpOf = (options: Pick<Options, "fetch" | "http">): ProviderHttp.ProviderHttpShape =>
  options.http ?? ProviderHttp.fromFetch(options.fetch ?? ((input, init) => globalThis.fetch(input, init)))

/**
 * A provider for OpenAI or any host that speaks its chat completions API (LM Studio, vLLM, Ollama,
 * Groq...): `/v1/chat/completions` is forwarded as is, the other routes go through the SDK.
 */
export const make = (options: Options): AIProvider.AIProviderShape => {
  const base = options.baseUrl.replace(/\/+$/, "")
  const target: OpenAiPassThrough.Target = {
    http: httpOf(options),
    url: (operation) => `${base}/${operation}`,
    headers: options.apiKey === undefined ? {} : { authorization: `Bearer ${Redacted.value(options.apiKey)}` }
  }
  const forwarded = OpenAiPassThrough.wire(target)
  return AIProvider.make({
    ...minimal(client(options), { ...options, models: OpenAiPassThrough.listModels(target, `${base}/models`) }),
    completions: { ...forwarded, streamUsage: options.streamUsage },
    embeddings: forwarded.embeddings
  })
}

/** The provider as the `AIProvider` service, for code that uses a single one. */
export const layer = (options: Options): Layer.Layer<AIProvider.AIProvider> =>
  Layer.succeed(AIProvider.AIProvider, make(options))
