import { Context } from "effect"

/** One upstream HTTP exchange of the pass-through path: the body is already serialised. */
export interface UpstreamRequest {
  readonly url: string
  readonly method: "GET" | "POST"
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string | undefined
  /** Aborted when the client went away or the attempt timed out: the upstream request is cancelled. */
  readonly signal: AbortSignal
}

/** An upstream answer whose body is read as it arrives. */
export interface UpstreamResponse {
  readonly status: number
  /** A response header by its lower-case name. */
  readonly header: (name: string) => string | undefined
  readonly body: AsyncIterable<Uint8Array>
}

/** Where an OpenAI-compatible host takes requests forwarded as they are, and how it is authenticated. */
export interface ForwardTarget {
  readonly http: ProviderHttpShape
  /** The URL of an operation for a model (Azure names its deployments in the path). */
  readonly url: (operation: "chat/completions" | "embeddings", model: string) => string
  /** The host's authentication and any headers it needs besides the JSON content type. */
  readonly headers: Readonly<Record<string, string>>
}

/**
 * The HTTP client the AI providers forward requests with, bytes in and bytes out. Runtimes supply
 * the fastest they have (on Node, a keep-alive connection pool); `fromFetch` serves everywhere else.
 */
export interface ProviderHttpShape {
  readonly send: (request: UpstreamRequest) => Promise<UpstreamResponse>
}

async function* chunksOf(body: ReadableStream<Uint8Array> | null): AsyncIterable<Uint8Array> {
  if (body === null) return
  const reader = body.getReader()
  try {
    while (true) {
      const { done, value } = await reader.read()
      if (done) return
      yield value
    }
  } finally {
    // A consumer that stops early (a failure, a client gone) cancels the upstream body.
    await reader.cancel().catch(() => undefined)
  }
}

/** The client over a `fetch` (Workers, browsers, Node's built-in one). */
export const fromFetch = (fetch: typeof globalThis.fetch): ProviderHttpShape => ({
  send: async (request) => {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body ?? null,
      signal: request.signal
    })
    return {
      status: response.status,
      header: (name) => response.headers.get(name) ?? undefined,
      body: chunksOf(response.body)
    }
  }
})

/**
 * The client a runtime adapter supplies; when absent the providers use `fromFetch` over
 * `ModelRouter.ProviderFetch` (or the global `fetch`).
 */
export const ProviderHttp = Context.Reference<ProviderHttpShape | undefined>("@lunarbit/gateway-core/ProviderHttp", {
  defaultValue: () => undefined
})
