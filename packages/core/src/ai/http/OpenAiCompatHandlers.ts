import { Effect } from "effect"
import { HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { Usage } from "../../access/services/Usage.ts"
import { Api } from "../../http/Api.ts"
import * as ErrorEnvelope from "../../http/ErrorEnvelope.ts"
import type { ChatMessage } from "../ports/AIProvider.ts"
import { ModelRouter } from "../services/ModelRouter.ts"
import { requireAi } from "./AiAccess.ts"
import * as AiStreaming from "./AiStreaming.ts"
import type { ChatCompletionRequest } from "./OpenAiCompatApi.ts"

type Payload = typeof ChatCompletionRequest.Type

const messagesOf = (payload: Payload): ReadonlyArray<ChatMessage> =>
  payload.messages.map((message) => ({
    role: message.role === "developer" ? "system" : message.role,
    content: typeof message.content === "string" ? message.content : message.content.map((part) => part.text).join("")
  }))

const usageOf = (usage: {
  readonly promptTokens: number
  readonly completionTokens: number
  readonly totalTokens: number
}) => ({
  prompt_tokens: usage.promptTokens,
  completion_tokens: usage.completionTokens,
  total_tokens: usage.totalTokens
})

/**
 * OpenAI's streaming wire: a role chunk, content chunks, a chunk with the finish reason, the usage
 * chunk when asked for, then `[DONE]`. A failure after the start is an `error` payload, which the
 * SDK raises as an `APIError`, and no `[DONE]`, so no client can take the answer for complete.
 */
const openAiFormat = (id: string, created: number, model: string, includeUsage: boolean): AiStreaming.SseFormat => {
  const chunk = (choices: ReadonlyArray<unknown>, extra: object = {}) =>
    AiStreaming.frame({ id, object: "chat.completion.chunk", created, model, choices, ...extra })
  return {
    start: chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]),
    delta: (text) => chunk([{ index: 0, delta: { content: text }, finish_reason: null }]),
    done: (event) =>
      chunk([{ index: 0, delta: {}, finish_reason: event.finishReason }]) +
      (includeUsage ? chunk([], { usage: usageOf(event.usage) }) : "") +
      "data: [DONE]\n\n",
    error: (error, scope) => {
      const body = ErrorEnvelope.body(error, scope)
      return AiStreaming.frame({ error: { ...body.error, type: "server_error", param: null } })
    }
  }
}

/** `/v1/chat/completions` and `/v1/models` over the ModelRouter, for keys with `canUseAI`. */
export const OpenAiCompatHandlers = HttpApiBuilder.group(Api, "openaiCompat", (handlers) =>
  Effect.gen(function* () {
    const router = yield* ModelRouter
    const usage = yield* Usage
    return handlers
      .handle("chatCompletions", ({ payload }) =>
        Effect.gen(function* () {
          const principal = yield* requireAi
          const id = `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`
          const created = Math.floor(Date.now() / 1000)
          const stop = payload.stop ?? undefined
          const request = {
            model: payload.model,
            messages: messagesOf(payload),
            temperature: payload.temperature ?? undefined,
            maxTokens: payload.max_completion_tokens ?? payload.max_tokens ?? undefined,
            topP: payload.top_p ?? undefined,
            stop: typeof stop === "string" ? [stop] : stop
          }
          if (payload.stream === true) {
            return yield* AiStreaming.respond({
              open: router.stream(request),
              format: (opened) =>
                openAiFormat(id, created, opened.model, payload.stream_options?.include_usage === true),
              onDone: (event) => usage.recordTokens(principal.name, event.usage.totalTokens)
            })
          }
          const completion = yield* router.chat(request)
          yield* usage.recordTokens(principal.name, completion.usage.totalTokens)
          // Built to the declared schema here; skipping its encoder saves a walk of the body per request.
          return HttpServerResponse.jsonUnsafe({
            id,
            object: "chat.completion" as const,
            created,
            model: completion.model,
            choices: [
              {
                index: 0,
                message: { role: "assistant" as const, content: completion.text, refusal: null },
                finish_reason: completion.finishReason,
                logprobs: null
              }
            ],
            usage: usageOf(completion.usage)
          })
        })
      )
      .handle("listModels", () =>
        Effect.gen(function* () {
          yield* requireAi
          const models = yield* router.models
          return {
            object: "list" as const,
            data: models.map((model) => ({
              id: model.id,
              object: "model" as const,
              created: 0,
              owned_by: model.provider
            }))
          }
        })
      )
  })
)
