import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import { Authenticated } from "../../access/http/Middleware.ts"
import { RequiredPermission } from "../../access/http/RequiredPermission.ts"

const optional = <S extends Schema.Top>(schema: S) => Schema.optionalKey(Schema.NullOr(schema))

/** Any further fields, kept as they are: the gateway forwards what it does not read. */
const rest = [Schema.Record(Schema.String, Schema.Unknown)] as const

const Message = Schema.StructWithRest(Schema.Struct({ role: Schema.String }), rest)

/**
 * OpenAI's chat-completions request. The gateway reads the model, the messages and whether to
 * stream; every other field (tools, response_format, seed, logprobs, fields OpenAI adds later)
 * reaches the provider as the client sent it, or is refused with a 400 naming it.
 */
export const ChatCompletionRequest = Schema.StructWithRest(
  Schema.Struct({
    model: Schema.NonEmptyString,
    messages: Schema.Array(Message).check(Schema.isMinLength(1)),
    stream: optional(Schema.Boolean),
    stream_options: optional(
      Schema.StructWithRest(Schema.Struct({ include_usage: Schema.optionalKey(Schema.Boolean) }), rest)
    )
  }),
  rest
)

const Usage = Schema.StructWithRest(
  Schema.Struct({ prompt_tokens: Schema.Int, completion_tokens: Schema.Int, total_tokens: Schema.Int }),
  rest
)

/** OpenAI's `chat.completion` object, with every field the provider sent. */
export const ChatCompletion = Schema.StructWithRest(
  Schema.Struct({
    id: Schema.String,
    object: Schema.Literal("chat.completion"),
    created: Schema.Int,
    model: Schema.String,
    choices: Schema.Array(
      Schema.StructWithRest(
        Schema.Struct({
          index: Schema.Int,
          message: Schema.StructWithRest(
            Schema.Struct({ role: Schema.Literal("assistant"), content: Schema.NullOr(Schema.String) }),
            rest
          ),
          finish_reason: Schema.String
        }),
        rest
      )
    ),
    usage: Schema.optionalKey(Usage)
  }),
  rest
)

/** OpenAI's `chat.completion.chunk` object, one per SSE `data:`. */
export const ChatCompletionChunk = Schema.StructWithRest(
  Schema.Struct({
    id: Schema.String,
    object: Schema.Literal("chat.completion.chunk"),
    created: Schema.Int,
    model: Schema.String,
    choices: Schema.Array(
      Schema.StructWithRest(
        Schema.Struct({
          index: Schema.Int,
          delta: Schema.Record(Schema.String, Schema.Unknown),
          finish_reason: Schema.NullOr(Schema.String)
        }),
        rest
      )
    ),
    usage: optional(Usage)
  }),
  rest
)

/** OpenAI's embeddings request: `model` and `input` read, the rest forwarded as sent. */
export const EmbeddingsRequest = Schema.StructWithRest(
  Schema.Struct({ model: Schema.NonEmptyString, input: Schema.Unknown }),
  rest
)

/** OpenAI's embeddings answer, as the provider wrote it. */
export const Embeddings = Schema.StructWithRest(
  Schema.Struct({ object: Schema.Literal("list"), data: Schema.Array(Schema.Unknown), model: Schema.String }),
  rest
)

const Model = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("model"),
  created: Schema.Int,
  owned_by: Schema.String
})

/** OpenAI's model list. */
export const ModelList = Schema.Struct({ object: Schema.Literal("list"), data: Schema.Array(Model) })

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
          "`stream_options.include_usage`) or not. OpenAI-compatible providers get the body as sent (only the " +
          "model mapped) and their answer comes back as they wrote it; others translate it or refuse, with a 400 " +
          "naming the field, what they cannot do. Errors use the gateway's envelope, which the SDK reads " +
          "(`error.message`, `error.code`, the `x-request-id` header)"
      )
      .annotate(RequiredPermission, "canUseAI"),
    HttpApiEndpoint.post("embeddings", "/v1/embeddings", { payload: EmbeddingsRequest, success: Embeddings })
      .annotate(OpenApi.Summary, "OpenAI's embeddings, forwarded to a provider that serves the model")
      .annotate(RequiredPermission, "canUseAI"),
    HttpApiEndpoint.get("listModels", "/v1/models", { success: ModelList })
      .annotate(OpenApi.Summary, "The models the gateway's providers serve, in OpenAI's list format")
      .annotate(RequiredPermission, "canUseAI"),
    HttpApiEndpoint.get("retrieveModel", "/v1/models/:model", {
      params: { model: Schema.String },
      success: Model
    })
      .annotate(OpenApi.Summary, "One model the gateway's providers serve; 404 MODEL_NOT_AVAILABLE otherwise")
      .annotate(RequiredPermission, "canUseAI")
  )
  .middleware(Authenticated) {}
