import { type Effect, Exit } from "effect"
import type { Principal } from "../access/domain/Permissions.ts"
import * as RateLimiter from "../access/services/RateLimiter.ts"
import type { UsageRecorderShape } from "../access/services/UsageRecorder.ts"
import { boundedMemo } from "../BoundedMemo.ts"
import type * as Errors from "../errors/Errors.ts"
import { redactPath } from "../logging/Redaction.ts"
import * as Cors from "./Cors.ts"
import { newRequestId } from "./RequestScope.ts"

/**
 * What both of the edge's lanes do the same way: reading the request line and head, and the
 * headers, usage count and access-log line every answer gets.
 */

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

/** The security headers of the spec, on every response, errors included. */
export const securityHeaders = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "x-xss-protection": "1; mode=block",
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "content-security-policy": "default-src 'self'"
} as const

/** Routes served at the root are also served under this prefix, as the spec's v2 base URL. */
export const versionPrefix = "/api/v2"

export const pathOf = (url: string) => {
  const query = url.indexOf("?")
  return query === -1 ? url : url.slice(0, query)
}

/** The target without the `/api/v2` prefix; `undefined` when it has none. */
export const stripVersionPrefix = (url: string): string | undefined => {
  if (!url.startsWith(versionPrefix)) return undefined
  const rest = url.slice(versionPrefix.length)
  if (rest === "") return "/"
  return rest[0] === "/" ? rest : rest[0] === "?" ? `/${rest}` : undefined
}

export const bearer = (authorization: string | undefined): string | undefined => {
  if (authorization === undefined) return undefined
  const match = /^Bearer[ \t]+(.*)$/i.exec(authorization)
  return match === null ? authorization : match[1]!.trim()
}

// An incoming request id is adopted only when it is a short token that cannot forge a log line or header.
const safeRequestId = /^[A-Za-z0-9._:-]{1,128}$/
export const requestIdOf = (incoming: string | undefined) =>
  incoming !== undefined && safeRequestId.test(incoming) ? incoming : newRequestId()

/** The client's address: the first `X-Forwarded-For` entry behind a trusted proxy, else the peer's. */
export const clientAddress = (
  trustProxy: boolean,
  forwardedFor: string | undefined,
  remoteAddress: string | undefined
): string => {
  if (trustProxy) {
    const forwarded = forwardedFor?.split(",")[0]?.trim()
    if (forwarded) return forwarded
  }
  return remoteAddress ?? "unknown"
}

/** A header's one value; `undefined` when it is absent or was sent more than once. */
export const single = (value: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof value === "string" ? value : undefined

/**
 * The rate limits of a request settled from its head: the verdict (`undefined` when nothing limits
 * the path, or when checking failed), read at once from in-memory limits, or an effect for a shared store.
 */
export const checkLimits = (
  edge: LaneEdge,
  path: string,
  principal: Principal | undefined,
  head: {
    readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
    readonly remoteAddress: string | undefined
  }
): RateLimiter.Verdict | undefined | Effect.Effect<RateLimiter.Verdict> => {
  const limitClass = edge.rateLimitClass(path)
  if (limitClass === "none") return undefined
  const check = edge.rateLimiter.check({
    ip: clientAddress(edge.trustProxy, single(head.headers["x-forwarded-for"]), head.remoteAddress),
    principal,
    ai: limitClass === "ai",
    publicDocument: limitClass === "public"
  })
  if (!Exit.isExit(check)) return check
  return Exit.isSuccess(check) ? (check.value as RateLimiter.Verdict) : undefined
}

/** The rate-limit policy that refused a request (for the metrics); `undefined` when none did. */
export const refusedBucket = (verdict: RateLimiter.Verdict | undefined): string | undefined =>
  verdict === undefined || verdict.allowed
    ? undefined
    : verdict.storeUnavailable
      ? "store_unavailable"
      : verdict.binding?.policy

/** What the edge tells its observer (metrics) about each request, once, when it has answered. */
export interface RequestRecord {
  /** The matched route's template (`/projects/:projectId`), never the raw path; `undefined` when none matched. */
  readonly route: string | undefined
  readonly method: string
  readonly status: number
  readonly durationMs: number
  /** The rate-limit policy that refused the request (`ip`, `key`, `ai`, `unauthenticated`, `public`, `store_unavailable`). */
  readonly refusedBucket: string | undefined
  /** The outcome of checking the bearer credential, when one was sent. */
  readonly authentication: Exit.Exit<Principal, Errors.Unauthorized | Errors.ServiceUnavailable> | undefined
}

/** What the edge's lanes need to settle a request from its head and account its answer. */
export interface LaneEdge {
  readonly docsUrl: string
  readonly authenticate: (
    credential: string
  ) => Effect.Effect<Principal, Errors.Unauthorized | Errors.ServiceUnavailable>
  readonly rateLimiter: RateLimiter.RateLimiterShape
  readonly rateLimitClass: (path: string) => "none" | "public" | "ai" | "api"
  readonly usage: UsageRecorderShape
  readonly accessLog: (entry: AccessLogEntry) => void
  /** Told of every answered request (metrics), as the complete lane tells it. */
  readonly observe?: ((record: RequestRecord) => void) | undefined
  readonly cors: Cors.CorsPolicy
  readonly trustProxy: boolean
}

/** What the edge knows of a request when it answers it. */
export interface Answered {
  readonly started: number
  readonly method: string
  /** The target as received (with any `/api/v2` prefix), for the access log. */
  readonly url: string
  readonly requestId: string
  readonly principal: Principal | undefined
  readonly origin: string | undefined
  readonly verdict: RateLimiter.Verdict | undefined
}

/**
 * The headers the edge adds to every answer: the security headers (`securityPolicy` replacing the
 * strict content security policy where a page needs its own), the rate-limit headers, CORS for an
 * allowed origin (`vary`: what the answer already varies by) and the request id.
 */
export const edgeHeaders = (
  answered: Answered,
  vary: string | undefined,
  securityPolicy: string | undefined,
  isPreflight: boolean
): Record<string, string> => {
  const headers: Record<string, string> = { ...securityHeaders }
  if (securityPolicy !== undefined) headers["content-security-policy"] = securityPolicy
  if (answered.verdict !== undefined) Object.assign(headers, RateLimiter.headers(answered.verdict))
  if (answered.origin !== undefined && !isPreflight) Object.assign(headers, Cors.responseHeaders(answered.origin, vary))
  headers["x-request-id"] = answered.requestId
  return headers
}

const loggedPath = boundedMemo((url: string) => redactPath(pathOf(url)))

/** Counts the answer against its key's usage and writes its access-log line. */
export const account = (
  answered: Answered,
  status: number,
  usage: UsageRecorderShape,
  log: (entry: AccessLogEntry) => void
) => {
  const { principal } = answered
  if (principal !== undefined) usage.recordRequest(principal.name, status >= 400)
  log({
    request_id: answered.requestId,
    method: answered.method,
    path: loggedPath(answered.url),
    status,
    duration_ms: Math.round((performance.now() - answered.started) * 1000) / 1000,
    ...(principal === undefined ? {} : { key: principal.name })
  })
}
