/**
 * A custom AI provider for Ollama's native API (`/api/chat`, newline-delimited JSON streams), written
 * the way the spec's `AIProvider` interface describes: promises and an async generator. The gateway
 * adds the rest: failover, time limits, usage counting, cancellation when the client leaves.
 */
import { AIProvider } from "@lunarbit/gateway-core"

interface OllamaChunk {
  readonly model: string
  readonly message?: { readonly content?: string }
  readonly done: boolean
  readonly done_reason?: string
  readonly prompt_eval_count?: number
  readonly eval_count?: number
  readonly error?: string
}

/** An HTTP failure carrying `status` and `headers`, which the gateway classifies (429, 5xx, 404...). */
const httpError = async (response: Response) => {
  const body = (await response.json().catch(() => ({}))) as { error?: string }
  return Object.assign(new Error(body.error ?? `Ollama answered ${response.status}`), {
    status: response.status,
    headers: response.headers
  })
}

const usageOf = (chunk: OllamaChunk): AIProvider.TokenUsage | undefined =>
  chunk.prompt_eval_count === undefined || chunk.eval_count === undefined
    ? undefined
    : {
        promptTokens: chunk.prompt_eval_count,
        completionTokens: chunk.eval_count,
        totalTokens: chunk.prompt_eval_count + chunk.eval_count
      }

const body = (request: AIProvider.ChatRequest, stream: boolean) =>
  JSON.stringify({
    model: request.model,
    messages: request.messages,
    stream,
    ...(request.jsonOutput === undefined ? {} : { format: request.jsonOutput.schema }),
    options: {
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.maxTokens === undefined ? {} : { num_predict: request.maxTokens })
    }
  })

/** Reads newline-delimited JSON off a response body. */
async function* lines(response: Response): AsyncGenerator<OllamaChunk> {
  const decoder = new TextDecoder()
  let buffered = ""
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(bytes, { stream: true })
    let newline = buffered.indexOf("\n")
    while (newline !== -1) {
      const line = buffered.slice(0, newline).trim()
      buffered = buffered.slice(newline + 1)
      if (line !== "") yield JSON.parse(line) as OllamaChunk
      newline = buffered.indexOf("\n")
    }
  }
}

export const make = (options: { readonly baseUrl: string; readonly defaultModel?: string }) => {
  const url = (path: string) => `${options.baseUrl.replace(/\/+$/, "")}${path}`
  const post = async (request: AIProvider.ChatRequest, stream: boolean, signal: AbortSignal) => {
    const response = await fetch(url("/api/chat"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body(request, stream),
      signal
    })
    if (!response.ok) throw await httpError(response)
    return response
  }

  return AIProvider.fromPromises({
    name: "ollama",
    defaultModel: options.defaultModel,

    async chatCompletion(request, signal) {
      const chunk = (await (await post(request, false, signal)).json()) as OllamaChunk
      return {
        text: chunk.message?.content ?? "",
        model: chunk.model,
        finishReason: chunk.done_reason ?? "stop",
        usage: usageOf(chunk)
      }
    },

    async *streamCompletion(request, signal) {
      for await (const chunk of lines(await post(request, true, signal))) {
        // Ollama reports a failure inside the stream as a line with `error`.
        if (chunk.error !== undefined) throw Object.assign(new Error(chunk.error), { status: 500 })
        if (chunk.done) {
          yield { model: chunk.model, finishReason: chunk.done_reason ?? "stop", usage: usageOf(chunk) }
          return
        }
        yield { text: chunk.message?.content ?? "", model: chunk.model }
      }
    },

    async getModels(signal) {
      const response = await fetch(url("/api/tags"), { signal })
      if (!response.ok) throw await httpError(response)
      const { models } = (await response.json()) as { models: ReadonlyArray<{ name: string }> }
      return models.map((model) => model.name)
    }
  })
}
