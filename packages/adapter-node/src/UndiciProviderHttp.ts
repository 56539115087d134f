import { ProviderHttp } from "@lunarbit/gateway-core"
import { Effect, Layer } from "effect"
import { Agent } from "undici"

export interface Options {
  /** Connections kept per upstream origin. */
  readonly connections?: number | undefined
  /** How long an idle upstream connection is kept open. */
  readonly keepAliveTimeoutMs?: number | undefined
}

const headerOf =
  (headers: Record<string, string | Array<string> | undefined>) =>
  (name: string): string | undefined => {
    const value = headers[name]
    return Array.isArray(value) ? value.join(", ") : value
  }

/**
 * The AI providers' pass-through client on undici's connection pool: one keep-alive pool per
 * upstream origin, no WHATWG streams, and the response body read as Node delivers it.
 */
export const make = (agent: Agent): ProviderHttp.ProviderHttpShape => ({
  send: async (request) => {
    const url = new URL(request.url)
    const response = await agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: request.method,
      headers: request.headers,
      body: request.body ?? null,
      signal: request.signal
    })
    return { status: response.statusCode, header: headerOf(response.headers), body: response.body }
  }
})

/** The client as the core's `ProviderHttp`; the pool is closed with the layer. */
export const layer = (options: Options = {}): Layer.Layer<never> =>
  Layer.effect(
    ProviderHttp.ProviderHttp,
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(
          () =>
            new Agent({
              connections: options.connections ?? 256,
              keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000
            })
        ),
        (agent) => Effect.promise(() => agent.close())
      ),
      make
    )
  ) as Layer.Layer<never>
