import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import { Authenticated } from "../../access/http/Middleware.ts"
import { RequiredPermission } from "../../access/http/RequiredPermission.ts"

const optional = <S extends Schema.Top>(schema: S) => Schema.optionalKey(Schema.NullOr(schema))

/** An object with `fields`, and any further fields kept as they are: the gateway forwards what it does not read. */
const open = <const Fields extends Schema.Struct.Fields>(fields: Fields) =>
  Schema.StructWithRest(Schema.Struct(fields), [Schema.Record(Schema.String, Schema.Unknown)])

/**
 * OpenAI's chat-completions request. The gateway reads the model, the messages and whether to
 * stream; every other field (tools, response_format, seed, logprobs, fields OpenAI adds later)
 * reaches the provider as the client sent it, or is refused with a 400 naming it.
 */
export const ChatCompletionRequest = open({
  model: Schema.NonEmptyString,
  messages: Schema.Array(open({ role: Schema.String })).check(Schema.isMinLength(1)),
  stream: optional(Schema.Boolean),
  stream_options: optional(open({ include_usage: Schema.optionalKey(Schema.Boolean) }))
})

const Usage = open({ prompt_tokens: Schema.Int, completion_tokens: Schema.Int, total_tokens: Schema.Int })

/** The fields every completion object starts with, `object` naming its kind. */
const completionOf = <const Kind extends string, const Choice extends Schema.Struct.Fields>(
  object: Kind,
  choice: Choice
) => ({
  id: Schema.String,
  object: Schema.Literal(object),
  created: Schema.Int,
  model: Schema.String,
  choices: Schema.Array(open({ index: Schema.Int, ...choice }))
})

/** OpenAI's `chat.completion` object, with every field the provider sent. */
export const ChatCompletion = open({
  ...completionOf("chat.completion", {
    message: open({ role: Schema.Literal("assistant"), content: Schema.NullOr(Schema.String) }),
    finish_reason: Schema.String
  }),
  usage: Schema.optionalKey(Usage)
})

/** OpenAI's `chat.completion.chunk` object, one per SSE `data:`. */
export const ChatCompletionChunk = open({
  ...completionOf("chat.completion.chunk", {
    delta: Schema.Record(Schema.String, Schema.Unknown),
    finish_reason: Schema.NullOr(Schema.String)
  }),
  usage: optional(Usage)
})

/** OpenAI's embeddings request: `model` and `input` read, the rest forwarded as sent. */
export const EmbeddingsRequest = open({ model: Schema.NonEmptyString, input: Schema.Unknown })

/** OpenAI's embeddings answer, as the provider wrote it. */
export const Embeddings = open({
  object: Schema.Literal("list"),
  data: Schema.Array(Schema.Unknown),
  model: Schema.String
})

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
