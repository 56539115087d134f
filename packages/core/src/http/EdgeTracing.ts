import { Context, Effect, Option } from "effect"
import { HttpServerRequest, type HttpServerResponse, HttpTraceContext } from "effect/http"
import { redactPath } from "../logging/Redaction.ts"
import * as Tracing from "../observability/Tracing.ts"
import type { EdgeOptions, Endpoint } from "./Edge.ts"

/**
 * Spans around the edge's steps when tracing is on: authentication, rate limiting and the
 * endpoint's handler (named by its route template). Off, the options come back unchanged, so the
 * edge keeps its effect-free fast paths. No span carries the credential, the client's address or a
 * raw path: only route templates, methods and statuses.
 */
export const traceSteps = (enabled: boolean, options: EdgeOptions): EdgeOptions => {
  if (!enabled) return options
  const traced = new WeakMap<Endpoint, Endpoint>()
  const tracedEndpoint = (endpoint: Endpoint): Endpoint => {
    let known = traced.get(endpoint)
    if (known === undefined) {
      known = {
        ...endpoint,
        handler: Effect.withSpan(endpoint.handler, "gateway.handler", {
          attributes: { "http.route": String(endpoint.path) }
        })
      }
      traced.set(endpoint, known)
    }
    return known
  }
  const find: typeof options.router.find = (method, url) => {
    const found = options.router.find(method, url)
    return found === undefined ? undefined : { ...found, handler: tracedEndpoint(found.handler) }
  }
  // The edge only looks routes up; everything else is the original router's.
  const router: typeof options.router = Object.assign(Object.create(options.router), { find })
  return {
    ...options,
    router,
    authenticate: (credential) => Effect.withSpan(options.authenticate(credential), "gateway.authenticate"),
    rateLimiter: {
      ...options.rateLimiter,
      check: (subject) =>
        Effect.withSpan(options.rateLimiter.check(subject), "gateway.rate_limit", {
          attributes: { "gateway.rate_limit.authenticated": subject.principal !== undefined, "gateway.ai": subject.ai }
        })
    }
  }
}

const pathOf = (url: string) => {
  const query = url.indexOf("?")
  return query === -1 ? url : url.slice(0, query)
}

/**
 * The request's server span around the whole edge, child of the caller's W3C `traceparent` when it
 * sent one. Off, `app` comes back unchanged.
 */
export const serverSpan = <E, R>(
  enabled: boolean,
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest>
): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest> => {
  if (!enabled) return app
  return Effect.withFiber((fiber) => {
    const request = Context.getUnsafe(fiber.context, HttpServerRequest.HttpServerRequest)
    const parent = HttpTraceContext.fromHeaders(request.headers)
    // A caller's decision stands (the span inherits it); otherwise the configured share is traced.
    const ratio = fiber.getRef(Tracing.SampleRatio)
    const sampled = Option.isSome(parent) || ratio >= 1 ? undefined : Math.random() < ratio
    return app.pipe(
      Effect.tap((response) => Effect.annotateCurrentSpan("http.response.status_code", response.status)),
      Effect.withSpan(`HTTP ${request.method}`, {
        kind: "server",
        attributes: { "http.request.method": request.method, "url.path": redactPath(pathOf(request.url)) },
        ...(Option.isSome(parent) ? { parent: parent.value } : {}),
        ...(sampled === undefined ? {} : { sampled })
      })
    )
  })
}

/** `make` (the edge) with every span above when `enabled`; `make` itself otherwise. */
export const traced =
  <R>(
    enabled: boolean,
    make: (options: EdgeOptions) => Effect.Effect<HttpServerResponse.HttpServerResponse, never, R>
  ) =>
  (options: EdgeOptions) =>
    enabled ? serverSpan(true, make(traceSteps(true, options))) : make(options)
