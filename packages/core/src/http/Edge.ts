import { Cause, Context, Effect } from "effect"
import { HttpIncomingMessage, HttpServerError, HttpServerRequest, HttpServerResponse } from "effect/http"
import * as Errors from "../errors/Errors.ts"
import { type GatewayErrorShape, isGatewayError } from "../errors/GatewayError.ts"
import { redact } from "../logging/Redaction.ts"
import * as ErrorEnvelope from "./ErrorEnvelope.ts"
import { newRequestId, RequestScope } from "./RequestScope.ts"
import * as RouteTable from "./RouteTable.ts"

/** One line of the access log: what was asked, what was answered, how long it took. */
export interface AccessLogEntry {
  readonly request_id: string
  readonly method: string
  readonly path: string
  readonly status: number
  readonly duration_ms: number
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
  readonly maxBodyBytes: number
  readonly routes: ReadonlyArray<RouteTable.RouteEntry>
  /** Whether a credential is valid; decides between 401 and 404/405 for paths nobody may probe. */
  readonly isAuthenticated: (authorization: string | undefined) => Effect.Effect<boolean>
  readonly docsPath: string
}

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

/**
 * The gateway's edge, around the router: it gives each request its id, serves the `/api/v2` prefix,
 * limits the body, turns everything that escaped the endpoints (unknown routes, wrong methods,
 * unreadable bodies, defects) into the error envelope, adds the security headers and writes the
 * access log.
 */
export const make = (options: EdgeOptions) => {
  const unknownRoute = (request: HttpServerRequest.HttpServerRequest, path: string) =>
    Effect.gen(function* () {
      const found = RouteTable.match(options.routes, path)
      // Only a caller with a valid key learns which protected paths exist.
      if (!found.public && !(yield* options.isAuthenticated(request.headers.authorization))) {
        return new Errors.Unauthorized({
          message: "Authentication required: send Authorization: Bearer <key>",
          details: { reason: request.headers.authorization === undefined ? "missing" : "invalid" }
        })
      }
      if (found.allowed.length > 0) {
        return new Errors.MethodNotAllowed({
          message: `Method ${request.method} is not allowed on ${path}`,
          details: { method: request.method, allowed_methods: found.allowed }
        })
      }
      return new Errors.NotFound({ message: `No route for ${request.method} ${path}`, details: { path } })
    })

  const fromCause = (request: HttpServerRequest.HttpServerRequest, path: string, cause: Cause.Cause<unknown>) =>
    Effect.gen(function* () {
      const failure = Cause.squash(cause)
      if (isGatewayError(failure)) return failure
      if (HttpServerError.isHttpServerError(failure)) {
        const reason = failure.reason
        if (reason._tag === "RouteNotFound") return yield* unknownRoute(request, path)
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

  const tooLarge = () =>
    new Errors.PayloadTooLarge({
      message: `The request body exceeds ${options.maxBodyBytes} bytes`,
      details: { limit_bytes: options.maxBodyBytes }
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

  const headers = (response: HttpServerResponse.HttpServerResponse, requestId: string, path: string) =>
    HttpServerResponse.setHeaders(response, {
      ...securityHeaders,
      ...(path === options.docsPath ? { "content-security-policy": docsPolicy } : {}),
      "x-request-id": requestId
    })

  return <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
    Effect.gen(function* () {
      const started = performance.now()
      const original = yield* HttpServerRequest.HttpServerRequest
      const stripped = stripVersionPrefix(original.url)
      const request = stripped === undefined ? original : original.modify({ url: stripped })
      const path = pathOf(request.url)
      const scope = { requestId: newRequestId(), docsUrl: options.docsUrl }

      const declared = Number(request.headers["content-length"] ?? 0)
      let response = yield* (
        declared > options.maxBodyBytes
          ? ErrorEnvelope.response(tooLarge())
          : app.pipe(
              Effect.provideService(HttpServerRequest.HttpServerRequest, request),
              Effect.provideService(HttpIncomingMessage.MaxBodySize, options.maxBodyBytes as never),
              Effect.catchCause((cause) =>
                Cause.hasInterruptsOnly(cause)
                  ? Effect.failCause(cause)
                  : Effect.flatMap(fromCause(request, path, cause), ErrorEnvelope.response)
              )
            )
      ).pipe(Effect.provideService(RequestScope, scope))

      const rewrite =
        response.status >= 400 && !ErrorEnvelope.isEnvelope(response) ? byStatus[response.status] : undefined
      if (rewrite !== undefined) {
        response = yield* Effect.provideService(ErrorEnvelope.response(rewrite(request)), RequestScope, scope)
      }
      const final = headers(response, scope.requestId, path)
      const log = yield* AccessLog
      log({
        request_id: scope.requestId,
        method: original.method,
        path: pathOf(original.url),
        status: final.status,
        duration_ms: Math.round((performance.now() - started) * 1000) / 1000
      })
      return final
    })
}
