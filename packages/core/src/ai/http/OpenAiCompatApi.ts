import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import { Authenticated } from "../../access/http/Middleware.ts"
import { RequiredPermission } from "../../access/http/RequiredPermission.ts"

const optional = <S extends Schema.Top>(schema: S) => Schema.optionalKey(Schema.NullOr(schema))

/** Text content, as a string or as OpenAI's list of text parts; other parts (images, audio) are refused. */
const Content = Schema.Union([
  Schema.String,
  Schema.Array(Schema.Struct({ type: Schema.Literal("text"), text: Schema.String }))
])

const Message = Schema.Struct({
  // `developer` is OpenAI's newer name for `system`.
  role: Schema.Literals(["system", "developer", "user", "assistant"]),
  content: Content,
  name: Schema.optionalKey(Schema.String)
})

/** The subset of OpenAI's chat completion request the gateway routes; unknown fields are ignored. */
export const ChatCompletionRequest = Schema.Struct({
  model: Schema.NonEmptyString,
  messages: Schema.Array(Message).check(Schema.isMinLength(1)),
  temperature: optional(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 2 }))),
  top_p: optional(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))),
  max_tokens: optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1_000_000 }))),
  max_completion_tokens: optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1_000_000 }))),
  stop: optional(Schema.Union([Schema.String, Schema.Array(Schema.String)])),
  n: optional(Schema.Literal(1)),
  stream: optional(Schema.Boolean),
  stream_options: optional(Schema.Struct({ include_usage: Schema.optionalKey(Schema.Boolean) }))
})

const Usage = Schema.Struct({ prompt_tokens: Schema.Int, completion_tokens: Schema.Int, total_tokens: Schema.Int })

/** OpenAI's `chat.completion` object. */
export const ChatCompletion = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("chat.completion"),
  created: Schema.Int,
  model: Schema.String,
  choices: Schema.Array(
    Schema.Struct({
      index: Schema.Int,
      message: Schema.Struct({ role: Schema.Literal("assistant"), content: Schema.String, refusal: Schema.Null }),
      finish_reason: Schema.String,
      logprobs: Schema.Null
    })
  ),
  usage: Usage
})

/** OpenAI's `chat.completion.chunk` object, one per SSE `data:`. */
export const ChatCompletionChunk = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("chat.completion.chunk"),
  created: Schema.Int,
  model: Schema.String,
  choices: Schema.Array(
    Schema.Struct({
      index: Schema.Int,
      delta: Schema.Struct({
        role: Schema.optionalKey(Schema.Literal("assistant")),
        content: Schema.optionalKey(Schema.String)
      }),
      finish_reason: Schema.NullOr(Schema.String)
    })
  ),
  usage: Schema.optionalKey(Usage)
})

/** OpenAI's model list. */
export const ModelList = Schema.Struct({
  object: Schema.Literal("list"),
  data: Schema.Array(
    Schema.Struct({ id: Schema.String, object: Schema.Literal("model"), created: Schema.Int, owned_by: Schema.String })
  )
})

/**
 * The OpenAI-compatible surface: point the official `openai` SDK's `baseURL` at `<gateway>/v1` and
 * use a gateway key (with `canUseAI`) as its API key. Requests go through the `ModelRouter`.
 */
export class OpenAiCompatGroup extends HttpApiGroup.make("openaiCompat")
  .add(
    HttpApiEndpoint.post("chatCompletions", "/v1/chat/completions", {
      payload: ChatCompletionRequest,
      success: [ChatCompletion, HttpApiSchema.StreamSse({ data: ChatCompletionChunk })]
    })
      .annotate(
        OpenApi.Description,
        "OpenAI's chat completions, streamed (`data:` chunks then `data: [DONE]`; usage with " +
          "`stream_options.include_usage`) or not. Errors use the gateway's envelope, which the SDK reads " +
          "(`error.message`, `error.code`, the `x-request-id` header)"
      )
      .annotate(RequiredPermission, "canUseAI"),
    HttpApiEndpoint.get("listModels", "/v1/models", { success: ModelList })
      .annotate(OpenApi.Summary, "The models the gateway's providers serve, in OpenAI's list format")
      .annotate(RequiredPermission, "canUseAI")
  )
  .middleware(Authenticated) {}
