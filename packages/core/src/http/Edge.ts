import { Cause, Context, Effect, Exit, Option } from "effect"
import { HttpIncomingMessage, HttpServerError, HttpServerRequest, HttpServerResponse } from "effect/http"
import type { Principal } from "../access/domain/Permissions.ts"
import * as RateLimiter from "../access/services/RateLimiter.ts"
import type { UsageRecorderShape } from "../access/services/UsageRecorder.ts"
import * as Errors from "../errors/Errors.ts"
import { type GatewayErrorShape, isGatewayError } from "../errors/GatewayError.ts"
import { redact } from "../logging/Redaction.ts"
import * as Cors from "./Cors.ts"
import * as ErrorEnvelope from "./ErrorEnvelope.ts"
import { newRequestId, RequestScope, type RequestScopeShape } from "./RequestScope.ts"
import * as RouteTable from "./RouteTable.ts"

/** One line of the access log: what was asked, what was answered, how long it took. */
export interface AccessLogEntry {
  readonly request_id: string
  readonly method: string
  readonly path: string
  readonly status: number
  readonly duration_ms: number
  /** The validated key's name, never the key. */
  readonly key?: string | undefined
}

/** Where access-log entries go; each runtime adapter supplies its own (pino on Node, console on Workers). */
export const AccessLog = Context.Reference<(entry: AccessLogEntry) => void>("@lunarbit/gateway-core/AccessLog", {
  defaultValue: () => () => {}
})

/** The security headers of the spec, on every response, errors included. */
export const securityHeaders = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "x-xss-protection": "1; mode=block",
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "content-security-policy": "default-src 'self'"
} as const

// The interactive documentation runs Scalar's inline script and styles; everything else keeps the strict policy.
const docsPolicy =
  "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:"

/** Routes served at the root are also served under this prefix, as the spec's v2 base URL. */
export const versionPrefix = "/api/v2"

export interface EdgeOptions {
  readonly docsUrl: string
  readonly docsPath: string
  readonly maxBodyBytes: number
  readonly routes: ReadonlyArray<RouteTable.RouteEntry>
  readonly authenticate: (credential: string) => Effect.Effect<Principal, Errors.Unauthorized>
  readonly rateLimiter: RateLimiter.RateLimiterShape
  readonly usage: UsageRecorderShape
  readonly cors: Cors.CorsPolicy
  /** Take the client address from `X-Forwarded-For` (only behind a proxy that sets it). */
  readonly trustProxy: boolean
  /** Which buckets a path's requests count against (`none`: never limited, the health probes). */
  readonly rateLimitClass: (path: string) => RateLimitClass
}

/** `api`: the key's or the unauthenticated bucket; `ai` adds the AI bucket; `public`: the public documents' bucket. */
export type RateLimitClass = "none" | "public" | "ai" | "api"

const pathOf = (url: string) => {
  const query = url.indexOf("?")
  return query === -1 ? url : url.slice(0, query)
}

const stripVersionPrefix = (url: string): string | undefined => {
  if (!url.startsWith(versionPrefix)) return undefined
  const rest = url.slice(versionPrefix.length)
  if (rest === "") return "/"
  return rest[0] === "/" ? rest : rest[0] === "?" ? `/${rest}` : undefined
}

const bearer = (authorization: string | undefined): string | undefined => {
  if (authorization === undefined) return undefined
  const match = /^Bearer[ \t]+(.*)$/i.exec(authorization)
  return match === null ? authorization : match[1]!.trim()
}

/**
 * The gateway's edge, around the router: it gives each request its id, serves the `/api/v2` prefix,
 * answers CORS preflights, checks the bearer key once, applies the rate limits (keyed on the
 * validated key, never the raw token, beside a per-IP abuse bucket), limits the body, turns
 * everything that escaped the endpoints (unknown routes, wrong methods, unreadable bodies, defects)
 * into the error envelope, adds the security, rate-limit and CORS headers, counts the key's usage
 * and writes the access log.
 */
export const make = (options: EdgeOptions) => {
  const unknownRoute = (
    request: HttpServerRequest.HttpServerRequest,
    path: string,
    principal: Principal | undefined
  ) => {
    const found = RouteTable.match(options.routes, path)
    // Only a caller with a valid key learns which protected paths exist.
    if (!found.public && principal === undefined) {
      return new Errors.Unauthorized({
        message: "Authentication required: send Authorization: Bearer <key>",
        details: { reason: request.headers.authorization === undefined ? "missing" : "invalid" }
      })
    }
    const method = request.method === "HEAD" ? "GET" : request.method
    // The path has the shape of a route that answers this method, yet the router refused it: a
    // segment it could not decode or that is longer than any id.
    if (found.allowed.includes(method)) {
      return new Errors.InvalidRequest({
        message: "The request path is malformed: a segment is not valid percent-encoding or is too long",
        details: { path: path.slice(0, 256) }
      })
    }
    if (found.allowed.length > 0) {
      return new Errors.MethodNotAllowed({
        message: `Method ${request.method} is not allowed on ${path}`,
        details: { method: request.method, allowed_methods: found.allowed }
      })
    }
    return new Errors.NotFound({ message: `No route for ${request.method} ${path}`, details: { path } })
  }

  const tooLarge = () =>
    new Errors.PayloadTooLarge({
      message: `The request body exceeds ${options.maxBodyBytes} bytes`,
      details: { limit_bytes: options.maxBodyBytes }
    })

  const fromCause = (
    request: HttpServerRequest.HttpServerRequest,
    path: string,
    principal: Principal | undefined,
    cause: Cause.Cause<unknown>
  ) =>
    Effect.gen(function* () {
      const failure = Cause.squash(cause)
      if (isGatewayError(failure)) return failure
      if (HttpServerError.isHttpServerError(failure)) {
        const reason = failure.reason
        if (reason._tag === "RouteNotFound") return unknownRoute(request, path, principal)
        if (reason._tag === "RequestParseError") {
          return reason.reason === "BodyTooLarge"
            ? tooLarge()
            : new Errors.InvalidRequest({ message: "The request body could not be read" })
        }
      }
      yield* Effect.logError("Unexpected fault while handling a request", redact(Cause.pretty(cause)))
      return new Errors.InternalError({
        message: "An unexpected error occurred; quote the request id when reporting it"
      })
    })

  // Framework answers that carry no envelope (415 for an unread content type, say) get one.
  const byStatus: Record<number, (request: HttpServerRequest.HttpServerRequest) => GatewayErrorShape> = {
    400: () => new Errors.InvalidRequest({ message: "The request is invalid" }),
    413: tooLarge,
    415: (request) =>
      new Errors.UnsupportedMediaType({
        message: "Send the request body as application/json",
        details: { content_type: request.headers["content-type"] ?? null }
      })
  }

  const clientAddress = (request: HttpServerRequest.HttpServerRequest): string => {
    if (options.trustProxy) {
      const forwarded = request.headers["x-forwarded-for"]?.split(",")[0]?.trim()
      if (forwarded) return forwarded
    }
    return Option.getOrElse(request.remoteAddress, () => "unknown")
  }

  const rateLimited = (verdict: RateLimiter.Verdict) => {
    const binding = verdict.binding!
    const retryAfter = Math.max(1, Math.ceil(binding.decision.retryAfterMs / 1000))
    return new Errors.RateLimitExceeded({
      message: `Rate limit exceeded: ${binding.decision.limit} requests per ${Math.round(binding.bucket.windowMs / 1000)} seconds`,
      details: {
        policy: binding.policy,
        limit: binding.decision.limit,
        window_seconds: Math.round(binding.bucket.windowMs / 1000),
        retry_after: retryAfter
      }
    })
  }

  const route = <E, R>(
    app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
    request: HttpServerRequest.HttpServerRequest,
    path: string,
    principal: Principal | undefined
  ) => {
    if (Number(request.headers["content-length"] ?? 0) > options.maxBodyBytes) return ErrorEnvelope.response(tooLarge())
    return app.pipe(
      Effect.provideService(HttpServerRequest.HttpServerRequest, request),
      Effect.provideService(HttpIncomingMessage.MaxBodySize, options.maxBodyBytes as never),
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause)
          ? Effect.failCause(cause)
          : Effect.flatMap(fromCause(request, path, principal, cause), ErrorEnvelope.response)
      )
    )
  }

  return <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
    Effect.gen(function* () {
      const started = performance.now()
      const original = yield* HttpServerRequest.HttpServerRequest
      const stripped = stripVersionPrefix(original.url)
      const request = stripped === undefined ? original : original.modify({ url: stripped })
      const path = pathOf(request.url)
      const origin = Cors.allowedOrigin(options.cors, request.headers.origin)
      let scope: RequestScopeShape = { requestId: newRequestId(), docsUrl: options.docsUrl }
      let principal: Principal | undefined
      let rateHeaders: Record<string, string> = {}
      let response: HttpServerResponse.HttpServerResponse

      if (Cors.isPreflight(request.method, request.headers)) {
        response =
          origin === undefined
            ? yield* Effect.provideService(
                ErrorEnvelope.response(
                  new Errors.Forbidden({
                    message: "This origin may not call the API",
                    details: { origin: request.headers.origin ?? null }
                  })
                ),
                RequestScope,
                scope
              )
            : HttpServerResponse.empty({ status: 204, headers: Cors.preflightHeaders(origin) })
      } else {
        const credential = bearer(request.headers.authorization)
        if (credential !== undefined) {
          const outcome = yield* Effect.exit(options.authenticate(credential))
          principal = Exit.isSuccess(outcome) ? outcome.value : undefined
          scope = { ...scope, authentication: { credential, outcome } }
        }
        const limitClass = options.rateLimitClass(path)
        const verdict =
          limitClass === "none"
            ? undefined
            : yield* options.rateLimiter.check({
                ip: clientAddress(original),
                principal,
                ai: limitClass === "ai",
                publicDocument: limitClass === "public"
              })
        if (verdict !== undefined) rateHeaders = RateLimiter.headers(verdict)
        response = yield* (
          verdict === undefined || verdict.allowed
            ? route(app, request, path, principal)
            : ErrorEnvelope.response(rateLimited(verdict))
        ).pipe(Effect.provideService(RequestScope, scope))
        const rewrite =
          response.status >= 400 && !ErrorEnvelope.isEnvelope(response) ? byStatus[response.status] : undefined
        if (rewrite !== undefined) {
          response = yield* Effect.provideService(ErrorEnvelope.response(rewrite(request)), RequestScope, scope)
        }
      }

      const final = HttpServerResponse.setHeaders(response, {
        ...securityHeaders,
        ...(path === options.docsPath ? { "content-security-policy": docsPolicy } : {}),
        ...rateHeaders,
        ...(origin === undefined || (response.status === 204 && request.method === "OPTIONS")
          ? {}
          : Cors.responseHeaders(origin, response.headers.vary)),
        "x-request-id": scope.requestId
      })
      if (principal !== undefined) options.usage.recordRequest(principal.name, final.status >= 400)
      const log = yield* AccessLog
      log({
        request_id: scope.requestId,
        method: original.method,
        path: pathOf(original.url),
        status: final.status,
        duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
        ...(principal === undefined ? {} : { key: principal.name })
      })
      return final
    })
}
