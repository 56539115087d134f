import { Effect, Stream } from "effect"
import type {
  AttemptLimits,
  ChatMessage,
  ChatRequest,
  CompletionsWire,
  CountedCompletion,
  StreamEvent
} from "../ports/AIProvider.ts"
import { ProviderFailure } from "./AiFailures.ts"
import * as AiTokens from "./AiTokens.ts"
import * as OpenAiWire from "./OpenAiWire.ts"

// The request fields a provider with only the port's `chat` and `stream` can carry.
const carried = new Set([
  "model",
  "messages",
  "stream",
  "stream_options",
  "temperature",
  "top_p",
  "max_tokens",
  "max_completion_tokens",
  "stop",
  "n",
  "response_format"
])

export const rejected = (provider: string, field: string, why = "is not supported by this provider") =>
  new ProviderFailure({
    provider,
    kind: "rejected",
    status: 400,
    message: `The field '${field}' ${why} ('${provider}')`
  })

const roles: Record<string, ChatMessage["role"]> = {
  system: "system",
  developer: "system",
  user: "user",
  assistant: "assistant"
}

const messagesOf = (provider: string, body: OpenAiWire.Body): Array<ChatMessage> =>
  body.messages.map((message, index) => {
    const { role, content } = (message ?? {}) as { role?: unknown; content?: unknown }
    const mapped = typeof role === "string" ? roles[role] : undefined
    if (mapped === undefined) throw rejected(provider, `messages[${index}].role`, `'${String(role)}' is not supported`)
    const textOnly =
      typeof content === "string" ||
      (Array.isArray(content) && content.every((part) => (part as { type?: unknown })?.type === "text"))
    if (!textOnly) throw rejected(provider, `messages[${index}].content`, "has parts other than text, which")
    return { role: mapped, content: OpenAiWire.textOf(content) }
  })

const numberOf = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined)

/**
 * The port's request for an OpenAI body, refusing (400, naming the field) what it cannot carry:
 * a silent drop would answer a different question than the one asked.
 */
export const toChatRequest = (provider: string, body: OpenAiWire.Body): ChatRequest => {
  for (const [field, value] of Object.entries(body)) {
    if (value !== null && value !== undefined && !carried.has(field)) throw rejected(provider, field)
  }
  if (body.n != null && body.n !== 1) throw rejected(provider, "n", "must be 1 on this provider")
  const format = body.response_format as { type?: string; json_schema?: { name?: string; schema?: object } } | null
  if (format != null && format.type !== "text" && format.type !== "json_schema" && format.type !== "json_object") {
    throw rejected(provider, "response_format.type")
  }
  const stop = body.stop
  return {
    model: body.model,
    messages: messagesOf(provider, body),
    temperature: numberOf(body.temperature),
    maxTokens: numberOf(body.max_completion_tokens) ?? numberOf(body.max_tokens),
    topP: numberOf(body.top_p),
    stop: typeof stop === "string" ? [stop] : Array.isArray(stop) ? stop.map(String) : undefined,
    jsonOutput:
      format?.type === "json_schema"
        ? { name: format.json_schema?.name ?? "answer", schema: { ...format.json_schema?.schema } }
        : format?.type === "json_object"
          ? { name: "answer", schema: { type: "object" } }
          : undefined
  }
}

/** A response id in OpenAI's shape. */
export const completionId = () => `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`

/** OpenAI's SSE frame of one chunk. */
export const chunkFrame = (id: string, created: number, model: string, choices: unknown, usage?: unknown) =>
  `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices, ...(usage === undefined ? {} : { usage }) })}\n\n`

/** The tokens of a whole answer that carried no usage, counted locally from its JSON. */
export const countCompletion = (body: OpenAiWire.Body, json: string): OpenAiWire.Usage => {
  let text = ""
  try {
    const parsed = JSON.parse(json) as { choices?: Array<{ message?: { content?: unknown } }> }
    for (const choice of parsed.choices ?? []) text += OpenAiWire.textOf(choice.message?.content)
  } catch {
    // An answer that is not JSON still cost its prompt.
  }
  return AiTokens.countUsage(OpenAiWire.promptTexts(body), text)
}

/**
 * OpenAI's wire over a provider's `chat` and `stream`: for providers that implement only the port,
 * such as the custom ones. Streams always end with the usage chunk; the reader removes it when the
 * client did not ask for it.
 */
export const fromChat = (
  provider: string,
  chat: (request: ChatRequest, limits?: AttemptLimits) => Effect.Effect<CountedCompletion, ProviderFailure>,
  stream: (request: ChatRequest, limits?: AttemptLimits) => Stream.Stream<StreamEvent, ProviderFailure>
): CompletionsWire => ({
  complete: (body) =>
    Effect.flatMap(Effect.try({ try: () => toChatRequest(provider, body), catch: (error) => error }), (request) =>
      Effect.map(chat(request), (completion) => ({
        json: JSON.stringify({
          id: completionId(),
          object: "chat.completion",
          created: Math.floor(Date.now() / 1000),
          model: completion.model,
          choices: [
            {
              index: 0,
              message: { role: "assistant", content: completion.text, refusal: null },
              logprobs: null,
              finish_reason: completion.finishReason
            }
          ],
          usage: OpenAiWire.usageJson(completion.usage)
        }),
        usage: completion.usage
      }))
    ),
  stream: (body) =>
    Stream.unwrap(
      Effect.map(Effect.try({ try: () => toChatRequest(provider, body), catch: (error) => error }), (request) => {
        const id = completionId()
        const created = Math.floor(Date.now() / 1000)
        let model = request.model
        const frame = (choices: unknown, usage?: unknown) => chunkFrame(id, created, model, choices, usage)
        const start = frame([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }])
        let first = true
        return Stream.map(stream(request), (event) => {
          const head = first ? start : ""
          first = false
          if (event._tag === "Delta") {
            return head + frame([{ index: 0, delta: { content: event.text }, finish_reason: null }])
          }
          model = event.model
          return `${head}${frame([{ index: 0, delta: {}, finish_reason: event.finishReason }])}${frame(
            [],
            OpenAiWire.usageJson(event.usage)
          )}data: [DONE]\n\n`
        })
      })
    )
})
