import { Effect } from "effect"
import { HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { Usage } from "../../access/services/Usage.ts"
import { ModelNotAvailable } from "../../errors/Errors.ts"
import { Api } from "../../http/Api.ts"
import * as AiWireStream from "../domain/AiWireStream.ts"
import { ModelRouter } from "../services/ModelRouter.ts"
import { requireAi } from "./AiAccess.ts"
import * as AiStreaming from "./AiStreaming.ts"

// The provider's JSON goes back as it wrote it: no parse and re-encode of the answer.
const json = (text: string) => HttpServerResponse.text(text, { contentType: "application/json" })

/** `/v1/chat/completions`, `/v1/embeddings` and `/v1/models` over the ModelRouter, for keys with `canUseAI`. */
export const OpenAiCompatHandlers = HttpApiBuilder.group(Api, "openaiCompat", (handlers) =>
  Effect.gen(function* () {
    const router = yield* ModelRouter
    const usage = yield* Usage
    return handlers
      .handle("chatCompletions", ({ payload }) =>
        Effect.gen(function* () {
          const principal = yield* requireAi
          if (payload.stream === true) {
            const meter = AiWireStream.meter()
            return yield* AiStreaming.respondText({
              open: router.streamCompletions(payload, meter),
              error: AiStreaming.openAiErrorFrame,
              onEnd: Effect.suspend(() =>
                usage.recordTokens(principal.name, AiWireStream.tokens(meter, payload).totalTokens)
              )
            })
          }
          const completion = yield* router.completions(payload)
          yield* usage.recordTokens(principal.name, completion.usage.totalTokens)
          return json(completion.json)
        })
      )
      .handle("embeddings", ({ payload }) =>
        Effect.gen(function* () {
          const principal = yield* requireAi
          const answer = yield* router.embeddings(payload)
          yield* usage.recordTokens(principal.name, answer.usage.totalTokens)
          return json(answer.json)
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
      .handle("retrieveModel", ({ params }) =>
        Effect.gen(function* () {
          yield* requireAi
          const models = yield* router.models
          const found = models.find((model) => model.id === params.model)
          if (found === undefined) {
            return yield* new ModelNotAvailable({
              message: `No provider serves the model '${params.model}'`,
              details: { model: params.model, available_models: models.map((model) => model.id) }
            })
          }
          return { id: found.id, object: "model" as const, created: 0, owned_by: found.provider }
        })
      )
  })
)
