import { Effect, Exit, Stream } from "effect"
import { noTrace, propagationHeaders } from "../../observability/Tracing.ts"
import * as OpenAiWire from "../domain/OpenAiWire.ts"
import type { CompletionsWire, Minimal } from "../ports/AIProvider.ts"
import type { ForwardTarget, UpstreamResponse } from "../ports/ProviderHttp.ts"

export type Target = ForwardTarget

/** A response body as text. */
export const readText = async (body: AsyncIterable<Uint8Array>): Promise<string> => {
  const decoder = new TextDecoder()
  let text = ""
  for await (const chunk of body) text += decoder.decode(chunk, { stream: true })
  return text + decoder.decode()
}

/** An upstream error answer in the shape `AiFailures.classify` reads from the SDKs' errors. */
export const failed = async (response: UpstreamResponse) => {
  const text = await readText(response.body)
  let error: unknown
  try {
    error = JSON.parse(text)
  } catch {
    error = { message: text.slice(0, 500) }
  }
  return {
    status: response.status,
    headers: { get: (name: string) => response.header(name) ?? null },
    error,
    message: `The upstream answered ${response.status}`
  }
}

/** The usage of a whole answer, when it reports one. */
export const usageIn = (json: string): OpenAiWire.Usage | undefined => {
  try {
    return OpenAiWire.usageOf((JSON.parse(json) as { usage?: unknown }).usage)
  } catch {
    return undefined
  }
}

/**
 * The model ids of OpenAI's model list at `url`, read over the pass-through client: the providers'
 * health probe lists them, and needs no SDK for it.
 */
export const listModels = (target: Pick<Target, "http" | "headers">, url: string) =>
  Effect.tryPromise({
    try: async (signal): Promise<ReadonlyArray<string>> => {
      const response = await target.http.send({ url, method: "GET", headers: target.headers, signal })
      if (response.status >= 300) throw await failed(response)
      const list = JSON.parse(await readText(response.body)) as { readonly data?: unknown }
      if (!Array.isArray(list.data)) throw new Error(`The model list at ${url} has no data`)
      return list.data.flatMap((model: { readonly id?: unknown }) => (typeof model?.id === "string" ? [model.id] : []))
    },
    catch: (error) => error
  })

/**
 * OpenAI's chat completions and embeddings forwarded as they are: the client's body (the router has mapped the
 * model) sent over the runtime's connection pool, and the answer's bytes passed back as they
 * arrive. Nothing is re-encoded, so fields the gateway has never heard of pass both ways.
 */
export const wire = (target: Target): CompletionsWire & Required<Pick<Minimal, "embeddings">> => {
  const headers = { "content-type": "application/json", ...target.headers }
  // `trace`: the `traceparent` of the attempt's span, when tracing is on.
  const send = (
    operation: "chat/completions" | "embeddings",
    body: OpenAiWire.Request,
    signal: AbortSignal,
    trace: Readonly<Record<string, string>>
  ) =>
    target.http.send({
      url: target.url(operation, body.model),
      method: "POST",
      headers: trace === noTrace ? headers : { ...headers, ...trace },
      body: JSON.stringify(body),
      signal
    })
  const whole = (operation: "chat/completions" | "embeddings") => (body: OpenAiWire.Request) =>
    Effect.flatMap(propagationHeaders, (trace) =>
      Effect.tryPromise({
        try: async (signal) => {
          const response = await send(operation, body, signal, trace)
          if (response.status >= 300) throw await failed(response)
          const json = await readText(response.body)
          return { json, usage: usageIn(json) }
        },
        catch: (error) => error
      })
    )
  return {
    target,
    complete: whole("chat/completions"),
    embeddings: whole("embeddings"),
    stream: (body: OpenAiWire.Body) =>
      Stream.unwrap(
        Effect.gen(function* () {
          // Aborted only when the stream did not run to its end, which cancels the upstream request.
          const controller = yield* Effect.acquireRelease(
            Effect.sync(() => new AbortController()),
            (controller, exit) => (Exit.isSuccess(exit) ? Effect.void : Effect.sync(() => controller.abort()))
          )
          const trace = yield* propagationHeaders
          const response = yield* Effect.tryPromise({
            try: async () => {
              const response = await send("chat/completions", { ...body, stream: true }, controller.signal, trace)
              if (response.status >= 300) throw await failed(response)
              return response
            },
            catch: (error) => error
          })
          return Stream.fromAsyncIterable(response.body, (error) => error).pipe(Stream.decodeText())
        })
      )
  }
}
