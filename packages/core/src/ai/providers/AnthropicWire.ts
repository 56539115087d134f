import type Anthropic from "@anthropic-ai/sdk"
import { Effect, Stream } from "effect"
import type { Sse } from "effect/encoding"
import { chunkFrame } from "../domain/AiWireTranslation.ts"
import * as OpenAiWire from "../domain/OpenAiWire.ts"
import type { CompletionsWire } from "../ports/AIProvider.ts"
import * as AiSse from "../services/AiSse.ts"
import { toAnthropic } from "./AnthropicWireRequest.ts"

type Params = Anthropic.MessageCreateParamsNonStreaming

/** Anthropic's stop reasons in OpenAI's vocabulary. */
export const finishReason = (stop: string | null | undefined): string => {
  switch (stop) {
    case "max_tokens":
      return "length"
    case "tool_use":
      return "tool_calls"
    case "refusal":
      return "content_filter"
    default:
      return "stop"
  }
}

interface InputUsage {
  readonly input_tokens?: number | null
  readonly cache_creation_input_tokens?: number | null
  readonly cache_read_input_tokens?: number | null
}

// Cached prompt tokens are billed apart but are prompt tokens all the same.
export const promptTokens = (usage: InputUsage) =>
  (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0)

export const usageOf = (prompt: number, completion: number): OpenAiWire.Usage => ({
  promptTokens: prompt,
  completionTokens: completion,
  totalTokens: prompt + completion
})

const now = () => Math.floor(Date.now() / 1000)

/** A Messages API answer as OpenAI's `chat.completion`: text, tool calls, finish reason, usage. */
export const toCompletion = (message: Anthropic.Message): OpenAiWire.Completion => {
  const text = message.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("")
  const calls = message.content.flatMap((block) =>
    block.type === "tool_use"
      ? [{ id: block.id, type: "function", function: { name: block.name, arguments: JSON.stringify(block.input) } }]
      : []
  )
  const usage = usageOf(promptTokens(message.usage), message.usage.output_tokens)
  const json = JSON.stringify({
    id: message.id,
    object: "chat.completion",
    created: now(),
    model: message.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: text === "" && calls.length > 0 ? null : text,
          refusal: null,
          ...(calls.length === 0 ? {} : { tool_calls: calls })
        },
        logprobs: null,
        finish_reason: finishReason(message.stop_reason)
      }
    ],
    usage: OpenAiWire.usageJson(usage)
  })
  return { json, usage }
}

/**
 * Reads Messages API stream events into OpenAI's chunks, tool calls included: a `tool_use` block
 * opens a tool call (id and name), its `input_json_delta`s are the arguments' pieces. The usage
 * chunk and `[DONE]` follow `message_stop`; an `error` event becomes OpenAI's error payload.
 */
export const streamTranslator = () => {
  let id = "msg"
  let model = ""
  const created = now()
  let prompt = 0
  let completion = 0
  let stop: string | null | undefined
  const toolIndex = new Map<number, number>()
  const frame = (choices: unknown, usage?: unknown) => chunkFrame(id, created, model, choices, usage)
  const delta = (value: unknown) => frame([{ index: 0, delta: value, finish_reason: null }])
  return (event: Sse.Event): string => {
    if (event.event === "ping") return ""
    const parsed = AiSse.json(event)
    if ("error" in parsed) return `data: ${JSON.stringify(parsed.error)}\n\n`
    const data = parsed.value as Anthropic.RawMessageStreamEvent | { type: "error"; error: unknown }
    switch (data.type) {
      case "error":
        return `data: ${JSON.stringify({ error: data.error })}\n\n`
      case "message_start":
        id = data.message.id
        model = data.message.model
        prompt = promptTokens(data.message.usage)
        completion = data.message.usage.output_tokens
        return delta({ role: "assistant", content: "" })
      case "content_block_start": {
        const block = data.content_block
        if (block.type !== "tool_use") return ""
        const index = toolIndex.size
        toolIndex.set(data.index, index)
        return delta({
          tool_calls: [{ index, id: block.id, type: "function", function: { name: block.name, arguments: "" } }]
        })
      }
      case "content_block_delta":
        if (data.delta.type === "text_delta") return delta({ content: data.delta.text })
        if (data.delta.type === "input_json_delta") {
          const index = toolIndex.get(data.index) ?? 0
          return delta({ tool_calls: [{ index, function: { arguments: data.delta.partial_json } }] })
        }
        return ""
      case "message_delta":
        // Output tokens here are cumulative; input tokens appear only when they changed.
        completion = data.usage.output_tokens
        if (data.usage.input_tokens != null) prompt = promptTokens(data.usage)
        stop = data.delta.stop_reason
        return ""
      case "message_stop":
        return `${frame([{ index: 0, delta: {}, finish_reason: finishReason(stop) }])}${frame(
          [],
          OpenAiWire.usageJson(usageOf(prompt, completion))
        )}data: [DONE]\n\n`
      default:
        return ""
    }
  }
}

/** OpenAI's wire translated onto the Messages API, through the SDK. */
export const wire = (client: () => Promise<Anthropic>, provider: string): CompletionsWire => ({
  complete: (body) =>
    Effect.tryPromise({
      try: (signal) =>
        client().then((anthropic) =>
          anthropic.messages.create(toAnthropic(provider, body) as unknown as Params, { signal })
        ),
      catch: (error) => error
    }).pipe(Effect.map(toCompletion)),
  stream: (body) =>
    Stream.suspend(() => {
      const translate = streamTranslator()
      return AiSse.fromResponse((signal) =>
        client().then((anthropic) =>
          anthropic.messages
            .create({ ...(toAnthropic(provider, body) as unknown as Params), stream: true }, { signal })
            .asResponse()
        )
      ).pipe(Stream.map((events) => translate(events)))
    })
})
