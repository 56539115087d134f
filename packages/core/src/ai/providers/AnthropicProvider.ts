import type Anthropic from "@anthropic-ai/sdk"
import { Array as Arr, Effect, Layer, Redacted, Stream } from "effect"
import type { Sse } from "effect/encoding"
import { propagationHeaders } from "../../observability/Tracing.ts"
import * as AIProvider from "../ports/AIProvider.ts"
import * as AiSse from "../services/AiSse.ts"
import { finishReason, promptTokens, usageOf, wire } from "./AnthropicWire.ts"
import { onFirstUse } from "./SdkClient.ts"

/** Anthropic's API and the key to use it with. */
export interface Options {
  readonly name?: string | undefined
  readonly apiKey: Redacted.Redacted<string>
  /** The API root without `/v1`, e.g. `https://api.anthropic.com`. */
  readonly baseUrl?: string | undefined
  readonly defaultModel?: string | undefined
  readonly fetch?: typeof globalThis.fetch | undefined
}

type Role = "user" | "assistant"

/**
 * Anthropic takes the system prompt apart from the messages and wants user and assistant turns;
 * consecutive messages of one role are joined, as the Messages API expects alternation.
 */
export const translate = (request: AIProvider.ChatRequest) => {
  const system: Array<string> = []
  const messages: Array<{ role: Role; content: string }> = []
  for (const message of request.messages) {
    if (message.role === "system") system.push(message.content)
    else {
      const last = messages.at(-1)
      if (last?.role === message.role) last.content = `${last.content}\n\n${message.content}`
      else messages.push({ role: message.role, content: message.content })
    }
  }
  // The Messages API has no JSON-schema mode on this SDK version: the schema goes into the system prompt.
  if (request.jsonOutput !== undefined) {
    system.push(
      `Answer with one JSON object and nothing else. It must match this JSON Schema:\n${JSON.stringify(request.jsonOutput.schema)}`
    )
  }
  return {
    model: request.model,
    // Anthropic requires a limit where OpenAI defaults to the model's.
    max_tokens: request.maxTokens ?? 4096,
    messages,
    // Anthropic's temperature range is 0-1 where OpenAI's is 0-2.
    ...(request.temperature === undefined ? {} : { temperature: Math.min(request.temperature, 1) }),
    ...(system.length === 0 ? {} : { system: system.join("\n\n") }),
    ...(request.topP === undefined ? {} : { top_p: request.topP }),
    ...(request.stop === undefined ? {} : { stop_sequences: [...request.stop] })
  }
}

/** The Messages API through `@anthropic-ai/sdk`, with its stream events read into the port's chunks. */
export const minimal = (
  client: () => Promise<Anthropic>,
  options: Pick<Options, "name" | "defaultModel">
): AIProvider.Minimal => ({
  name: options.name ?? "anthropic",
  defaultModel: options.defaultModel,
  chat: (request) =>
    Effect.flatMap(propagationHeaders, (headers) =>
      Effect.tryPromise({
        try: (signal) =>
          client().then((anthropic) => anthropic.messages.create(translate(request), { signal, headers })),
        catch: (error) => error
      })
    ).pipe(
      Effect.map((message) => ({
        text: message.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join(""),
        model: message.model,
        finishReason: finishReason(message.stop_reason),
        usage: usageOf(promptTokens(message.usage), message.usage.output_tokens)
      }))
    ),
  // The SDK sends the request and turns error statuses into its errors; the body is read in batches
  // rather than through the SDK's per-event iterator, which costs a promise per event.
  stream: (request) =>
    Stream.suspend(() => {
      let prompt = 0
      let completion = 0
      let stop: string | null | undefined
      const chunkOf = (event: Sse.Event): AIProvider.StreamChunk => {
        if (event.event === "ping") return {}
        const parsed = AiSse.json(event)
        if ("error" in parsed) return { error: parsed.error }
        const data = parsed.value as Anthropic.RawMessageStreamEvent | { readonly type: "error" }
        switch (data.type) {
          case "error":
            return { error: { error: data } }
          case "message_start":
            prompt = promptTokens(data.message.usage)
            completion = data.message.usage.output_tokens
            return { model: data.message.model }
          case "content_block_delta":
            return data.delta.type === "text_delta" ? { text: data.delta.text } : {}
          case "message_delta":
            // Output tokens here are cumulative; input tokens appear only when they changed.
            completion = data.usage.output_tokens
            if (data.usage.input_tokens != null) prompt = promptTokens(data.usage)
            stop = data.delta.stop_reason
            return {}
          case "message_stop":
            // Only `message_stop` finishes: a stream cut after `message_delta` is still incomplete.
            return { finishReason: finishReason(stop), usage: usageOf(prompt, completion) }
          default:
            return {}
        }
      }
      return Stream.unwrap(
        Effect.map(propagationHeaders, (headers) =>
          AiSse.fromResponse((signal) =>
            client().then((anthropic) =>
              anthropic.messages.create({ ...translate(request), stream: true }, { signal, headers }).asResponse()
            )
          )
        )
      ).pipe(Stream.mapArray((events) => Arr.map(events, chunkOf)))
    }),
  models: Effect.tryPromise({
    try: async (signal) => {
      const ids: Array<string> = []
      const anthropic = await client()
      for await (const model of anthropic.models.list({}, { signal })) ids.push(model.id)
      return ids
    },
    catch: (error) => error
  })
})

/**
 * Anthropic's Messages API; the SDK (made on first use) reads nothing from the environment and never
 * retries on its own.
 */
export const make = (options: Options): AIProvider.AIProviderShape => {
  const client = onFirstUse(async () => {
    const { default: Anthropic } = await import("@anthropic-ai/sdk")
    return new Anthropic({
      apiKey: Redacted.value(options.apiKey),
      baseURL: (options.baseUrl ?? "https://api.anthropic.com").replace(/\/+$/, ""),
      maxRetries: 0,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch })
    })
  })
  const wired = minimal(client, options)
  return AIProvider.make({ ...wired, completions: wire(client, wired.name) })
}

/** The provider as the `AIProvider` service, for code that uses a single one. */
export const layer = (options: Options): Layer.Layer<AIProvider.AIProvider> =>
  Layer.succeed(AIProvider.AIProvider, make(options))
