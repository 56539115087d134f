import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { Usage } from "../../access/services/Usage.ts"
import { Api } from "../../http/Api.ts"
import * as ErrorEnvelope from "../../http/ErrorEnvelope.ts"
import * as AiTokens from "../domain/AiTokens.ts"
import * as AiChangelog from "../services/AiChangelog.ts"
import { ModelRouter, type RouteRequest } from "../services/ModelRouter.ts"
import { requireAi } from "./AiAccess.ts"
import * as AiStreaming from "./AiStreaming.ts"

/** `/ai/chat`'s SSE: `delta` events, then `done` with the totals, or `error` with the envelope. */
const chatFormat = (startedAt: number): AiStreaming.SseFormat => ({
  delta: (text) => AiStreaming.frame({ content: text }, "delta"),
  done: (event) =>
    AiStreaming.frame(
      {
        model: event.model,
        tokens_used: event.usage.totalTokens,
        processing_time_ms: Date.now() - startedAt,
        finish_reason: event.finishReason
      },
      "done"
    ),
  error: (error, scope) => AiStreaming.frame(ErrorEnvelope.body(error, scope), "error")
})

/** `GET /ai/status`, answered from cached health probes. */
export const AiStatusHandlers = HttpApiBuilder.group(Api, "aiStatus", (handlers) =>
  Effect.gen(function* () {
    const router = yield* ModelRouter
    return handlers.handle("status", () => router.status)
  })
)

/** `POST /ai/chat` (JSON or SSE) and `POST /ai/analyze-changelog`, for keys with `canUseAI`. */
export const AiHandlers = HttpApiBuilder.group(Api, "ai", (handlers) =>
  Effect.gen(function* () {
    const router = yield* ModelRouter
    const usage = yield* Usage
    return handlers
      .handle("chat", ({ payload }) =>
        Effect.gen(function* () {
          const principal = yield* requireAi
          const startedAt = Date.now()
          const request: RouteRequest = {
            messages: payload.messages,
            temperature: payload.temperature ?? 0.7,
            maxTokens: payload.max_tokens ?? 2000,
            model: payload.model
          }
          if (payload.stream === true) {
            return yield* AiStreaming.respond({
              open: router.stream(request),
              format: () => chatFormat(startedAt),
              onDone: (event) => usage.recordTokens(principal.name, event.usage.totalTokens),
              // A stream cut short still cost its prompt and what was sent of the answer.
              onCut: (text) =>
                usage.recordTokens(principal.name, AiTokens.countUsage(request.messages, text).totalTokens)
            })
          }
          const completion = yield* router.chat(request)
          yield* usage.recordTokens(principal.name, completion.usage.totalTokens)
          return {
            response: completion.text,
            model: completion.model,
            tokens_used: completion.usage.totalTokens,
            processing_time_ms: Date.now() - startedAt
          }
        })
      )
      .handle("analyzeChangelog", ({ payload }) =>
        Effect.gen(function* () {
          const principal = yield* requireAi
          const completion = yield* router.chat(AiChangelog.request(payload.version, payload.changelog))
          yield* usage.recordTokens(principal.name, completion.usage.totalTokens)
          const analysis = yield* AiChangelog.parse(completion.text)
          return { version: payload.version, ...analysis }
        })
      )
  })
)
