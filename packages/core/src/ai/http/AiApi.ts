import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import { Authenticated } from "../../access/http/Middleware.ts"
import { RequiredPermission } from "../../access/http/RequiredPermission.ts"

const Message = Schema.Struct({
  role: Schema.Literals(["system", "user", "assistant"]),
  content: Schema.String
})

/** `POST /ai/chat` as the spec describes it; `temperature` defaults to 0.7 and `max_tokens` to 2000. */
export const ChatRequest = Schema.Struct({
  messages: Schema.Array(Message).check(Schema.isMinLength(1)),
  temperature: Schema.optionalKey(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 2 }))),
  max_tokens: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1_000_000 }))),
  stream: Schema.optionalKey(Schema.Boolean),
  model: Schema.optionalKey(Schema.NonEmptyString)
})

/** `POST /ai/chat` without streaming, as the spec describes it. */
export const ChatResponse = Schema.Struct({
  response: Schema.String,
  model: Schema.String,
  tokens_used: Schema.Int,
  processing_time_ms: Schema.Number
})

/** The events of a streamed chat, each the `data` of its SSE event (named `delta`, `done` or `error`). */
export const ChatStreamEvent = Schema.Union([
  Schema.Struct({ content: Schema.String }),
  Schema.Struct({
    model: Schema.String,
    tokens_used: Schema.Int,
    processing_time_ms: Schema.Number,
    finish_reason: Schema.String
  }),
  Schema.Struct({ error: Schema.Struct({ code: Schema.String, message: Schema.String }) })
])

/** `POST /ai/analyze-changelog`. */
export const AnalyzeChangelogRequest = Schema.Struct({
  version: Schema.NonEmptyString.check(Schema.isMaxLength(256)),
  changelog: Schema.NonEmptyString.check(Schema.isMaxLength(100_000))
})

/** The validated analysis; a breaking change is always `major`. */
export const AnalyzeChangelogResponse = Schema.Struct({
  version: Schema.String,
  analysis: Schema.String,
  breaking: Schema.Boolean,
  severity: Schema.Literals(["major", "minor", "patch"])
})

/** `GET /ai/status`: the spec's fields plus the strategy and each provider's circuit. */
export const AiStatus = Schema.Struct({
  enabled: Schema.Boolean,
  strategy: Schema.String,
  providers: Schema.Array(
    Schema.Struct({
      name: Schema.String,
      available: Schema.Boolean,
      models: Schema.Array(Schema.String),
      circuit: Schema.Literals(["closed", "open", "half_open"])
    })
  ),
  models: Schema.Array(Schema.String)
})

/** `GET /ai/status`: public, like the spec says, and answered from cached health probes. */
export class AiStatusGroup extends HttpApiGroup.make("aiStatus").add(
  HttpApiEndpoint.get("status", "/ai/status", { success: AiStatus }).annotate(
    OpenApi.Summary,
    "Whether AI is enabled, each provider's availability (cached health probes) and the models served"
  )
) {}

/** `POST /ai/chat` and `POST /ai/analyze-changelog`: need a key with `canUseAI`. */
export class AiGroup extends HttpApiGroup.make("ai")
  .add(
    HttpApiEndpoint.post("chat", "/ai/chat", {
      payload: ChatRequest,
      success: [ChatResponse, HttpApiSchema.StreamSse({ data: ChatStreamEvent })]
    })
      .annotate(
        OpenApi.Description,
        "A chat completion routed to the configured providers with failover. With `stream: true` the answer is " +
          "Server-Sent Events: `delta` events with text, then one `done` event with model, tokens_used and " +
          "processing_time_ms, or an `error` event carrying the error envelope if the provider fails mid-stream"
      )
      .annotate(RequiredPermission, "canUseAI"),
    HttpApiEndpoint.post("analyzeChangelog", "/ai/analyze-changelog", {
      payload: AnalyzeChangelogRequest,
      success: AnalyzeChangelogResponse
    })
      .annotate(OpenApi.Summary, "Summarises a changelog and rates the update: breaking, severity major/minor/patch")
      .annotate(RequiredPermission, "canUseAI")
  )
  .middleware(Authenticated) {}
