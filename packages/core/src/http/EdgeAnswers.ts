import { Cause, Effect } from "effect"
import { HttpServerError, type HttpServerRequest } from "effect/http"
import type { Principal } from "../access/domain/Permissions.ts"
import type * as RateLimiter from "../access/services/RateLimiter.ts"
import * as Errors from "../errors/Errors.ts"
import { type GatewayErrorShape, isGatewayError } from "../errors/GatewayError.ts"
import { redact } from "../logging/Redaction.ts"
import * as RouteTable from "./RouteTable.ts"

/**
 * The edge's own answers: what it says when no endpoint answers (unknown path, wrong method,
 * malformed path), when a limit refuses, and when something escaped an endpoint.
 */
export interface UnknownRoute {
  readonly error: GatewayErrorShape
  /** The `Allow` header of a 405. */
  readonly allow?: string | undefined
}

export const unknownRoute = (
  routes: ReadonlyArray<RouteTable.RouteEntry>,
  request: HttpServerRequest.HttpServerRequest,
  path: string,
  principal: Principal | undefined
): UnknownRoute => {
  const found = RouteTable.match(routes, path)
  // Only a caller with a valid key learns which protected paths exist.
  if (!found.public && principal === undefined) {
    return {
      error: new Errors.Unauthorized({
        message: "Authentication required: send Authorization: Bearer <key>",
        details: { reason: request.headers.authorization === undefined ? "missing" : "invalid" }
      })
    }
  }
  const method = request.method === "HEAD" ? "GET" : request.method
  // The path has the shape of a route that answers this method, yet the router refused it: a
  // segment it could not decode or that is longer than any id.
  if (found.allowed.includes(method)) {
    return {
      error: new Errors.InvalidRequest({
        message: "The request path is malformed: a segment is not valid percent-encoding or is too long",
        details: { path: path.slice(0, 256) }
      })
    }
  }
  if (found.allowed.length > 0) {
    const allowed = found.allowed.includes("GET") ? [...found.allowed, "HEAD"] : found.allowed
    return {
      error: new Errors.MethodNotAllowed({
        message: `Method ${request.method} is not allowed on ${path}`,
        details: { method: request.method, allowed_methods: found.allowed }
      }),
      allow: allowed.join(", ")
    }
  }
  return { error: new Errors.NotFound({ message: `No route for ${request.method} ${path}`, details: { path } }) }
}

export const tooLarge = (maxBodyBytes: number) =>
  new Errors.PayloadTooLarge({
    message: `The request body exceeds ${maxBodyBytes} bytes`,
    details: { limit_bytes: maxBodyBytes }
  })

/** What escaped an endpoint, as an error the envelope can carry; unexpected faults are logged. */
export const fromCause = (cause: Cause.Cause<unknown>, maxBodyBytes: number): Effect.Effect<GatewayErrorShape> => {
  const failure = Cause.squash(cause)
  if (isGatewayError(failure)) return Effect.succeed(failure)
  if (HttpServerError.isHttpServerError(failure) && failure.reason._tag === "RequestParseError") {
    return Effect.succeed(
      failure.reason.reason === "BodyTooLarge"
        ? tooLarge(maxBodyBytes)
        : new Errors.InvalidRequest({ message: "The request body could not be read" })
    )
  }
  return Effect.as(
    Effect.logError("Unexpected fault while handling a request", redact(Cause.pretty(cause))),
    new Errors.InternalError({ message: "An unexpected error occurred; quote the request id when reporting it" })
  )
}

// Framework answers that carry no envelope (415 for an unread content type, say) get one.
export const byStatus: Record<
  number,
  ((request: HttpServerRequest.HttpServerRequest, maxBodyBytes: number) => GatewayErrorShape) | undefined
> = {
  400: () => new Errors.InvalidRequest({ message: "The request is invalid" }),
  413: (_, maxBodyBytes) => tooLarge(maxBodyBytes),
  415: (request) =>
    new Errors.UnsupportedMediaType({
      message: "Send the request body as application/json",
      details: { content_type: request.headers["content-type"] ?? null }
    })
}

export const rateLimited = (verdict: RateLimiter.Verdict): GatewayErrorShape => {
  const binding = verdict.binding
  if (verdict.storeUnavailable || binding === undefined) {
    return new Errors.ServiceUnavailable({
      message: "Rate limits cannot be checked right now; retry shortly",
      details: { retry_after: 1 }
    })
  }
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

/** A preflight from an origin CORS does not allow. */
export const forbiddenOrigin = (origin: string | undefined) =>
  new Errors.Forbidden({ message: "This origin may not call the API", details: { origin: origin ?? null } })
