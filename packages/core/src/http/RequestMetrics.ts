import { Cause, Exit } from "effect"
import { latencyBuckets, type Registry } from "../observability/Metrics.ts"
import type { RequestRecord } from "./Edge.ts"

/** The route label of requests no route matched (404s): never the raw path, which any client can vary. */
export const unmatchedRoute = "unmatched"

// Methods outside this set (any token is a valid HTTP method) share one label.
const methods = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])

const statusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"]

// The refusal reasons Authentication gives (`details.reason`); anything else is `other`.
const reasons = new Set(["missing", "malformed", "unknown", "revoked", "expired"])

const failureReason = (authentication: RequestRecord["authentication"]): string | undefined => {
  if (authentication === undefined || Exit.isSuccess(authentication)) return undefined
  const error = Cause.squash(authentication.cause) as { _tag?: string; details?: { reason?: unknown } }
  if (error?._tag === "ServiceUnavailable") return "store_unavailable"
  const reason = error?.details?.reason
  return typeof reason === "string" && reasons.has(reason) ? reason : "other"
}

/**
 * The edge's observer: requests by route template, method and status class, their durations by
 * route template, rate-limit refusals by bucket and authentication failures by reason. Every
 * label comes from a closed set, so random paths, methods or keys add no series.
 */
export const observer = (registry: Registry): ((record: RequestRecord) => void) => {
  const requests = registry.counter("lunarbit_http_requests_total", {
    help: "HTTP requests answered, by route template, method and status class",
    labels: ["route", "method", "status_class"]
  })
  const duration = registry.histogram("lunarbit_http_request_duration_seconds", {
    help: "Time from a request's arrival to its response headers, by route template",
    labels: ["route"],
    buckets: latencyBuckets
  })
  const refusals = registry.counter("lunarbit_rate_limit_rejections_total", {
    help: "Requests refused by a rate limit, by the bucket that refused them",
    labels: ["bucket"]
  })
  const authFailures = registry.counter("lunarbit_auth_failures_total", {
    help: "Requests whose credential was refused, by reason (missing: a protected route without one)",
    labels: ["reason"]
  })
  return (record) => {
    const route = record.route ?? unmatchedRoute
    const statusClass = statusClasses[Math.floor(record.status / 100) - 1] ?? "other"
    requests.inc([route, methods.has(record.method) ? record.method : "other", statusClass])
    duration.observe([route], record.durationMs / 1000)
    if (record.refusedBucket !== undefined) refusals.inc([record.refusedBucket])
    const reason =
      record.authentication === undefined && record.status === 401 ? "missing" : failureReason(record.authentication)
    if (reason !== undefined) authFailures.inc([reason])
  }
}
