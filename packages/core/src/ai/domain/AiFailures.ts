import { Data } from "effect"
import { redactString } from "../../logging/Redaction.ts"

/**
 * Why one upstream attempt failed. The router decides from the kind alone whether to fail over,
 * whether the provider's circuit breaker hears of it, and what the client is finally told.
 */
export type FailureKind =
  /** The connection could not be made or broke (refused, reset, DNS, a body cut mid-read). */
  | "connection"
  | "timeout"
  /** HTTP 429 or a rate-limit error event; `retryAfterMs` cools the provider down. */
  | "rate_limited"
  /** HTTP 5xx, an overload, or an error event from the provider's side. */
  | "server"
  /** The gateway's own credentials for this provider were refused (401/403): a configuration fault. */
  | "auth"
  /** The provider does not know the model (404). */
  | "not_found"
  /** The provider refused the request itself (400, 413, 422): no other attempt would do better. */
  | "rejected"
  /** A stream that ended cleanly before its completion finished. */
  | "incomplete"

/** A classified upstream failure of one provider. */
export class ProviderFailure extends Data.TaggedError("ProviderFailure")<{
  readonly provider: string
  readonly kind: FailureKind
  readonly message: string
  readonly status?: number | undefined
  readonly retryAfterMs?: number | undefined
}> {}

/** A failure before it is attributed to a provider. */
export interface Classified {
  readonly kind: FailureKind
  readonly message: string
  readonly status?: number | undefined
  readonly retryAfterMs?: number | undefined
}

/** Whether another attempt, on this provider or another, may succeed where this one failed. */
export const canFailOver = (kind: FailureKind): boolean => kind !== "rejected"

/** Whether the failure says the provider is unhealthy, so its circuit breaker should count it. */
export const isProviderFault = (kind: FailureKind): boolean =>
  kind === "connection" || kind === "timeout" || kind === "server" || kind === "auth" || kind === "incomplete"

const headerOf = (headers: unknown, name: string): string | undefined => {
  if (typeof headers !== "object" || headers === null) return undefined
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined
  const value = (headers as Record<string, unknown>)[name]
  return typeof value === "string" ? value : undefined
}

/**
 * How long a 429 asks to wait, in milliseconds: OpenAI's `retry-after-ms`, then the standard
 * `Retry-After` as seconds or as an HTTP date.
 */
export const retryAfterMs = (headers: unknown, now: number = Date.now()): number | undefined => {
  const ms = Number(headerOf(headers, "retry-after-ms") ?? Number.NaN)
  if (Number.isFinite(ms) && ms >= 0) return ms
  const value = headerOf(headers, "retry-after")
  if (value === undefined || value.trim() === "") return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

const byStatus = (status: number): FailureKind => {
  if (status === 429) return "rate_limited"
  if (status === 408) return "timeout"
  if (status === 401 || status === 403) return "auth"
  if (status === 404) return "not_found"
  if (status >= 500) return "server"
  return "rejected"
}

// Error types inside bodies and stream error events: OpenAI's `error.type`, Anthropic's `error.error.type`.
const byType = (type: string): FailureKind => {
  if (/rate_limit/.test(type)) return "rate_limited"
  if (/invalid_request|request_too_large/.test(type)) return "rejected"
  if (/authentication|permission/.test(type)) return "auth"
  if (/not_found/.test(type)) return "not_found"
  if (/timeout/.test(type)) return "timeout"
  return "server"
}

const bodyOf = (error: unknown): { readonly type?: unknown; readonly message?: unknown } | undefined => {
  const body = (error as { readonly error?: unknown }).error
  if (typeof body !== "object" || body === null) return undefined
  const nested = (body as { readonly error?: unknown }).error
  return typeof nested === "object" && nested !== null ? nested : body
}

const messageOf = (error: unknown, body: ReturnType<typeof bodyOf>): string => {
  if (typeof body?.message === "string" && body.message !== "") return body.message
  if (error instanceof Error && error.message !== "") return error.message
  return String(error)
}

/**
 * Reads what the official SDKs (and `fetch`) throw: an HTTP status with its headers, an error body
 * or stream error event with a type, a connection or timeout error. Unknown errors count as server
 * faults, so they fail over rather than reach the client as its own mistake.
 */
export const classify = (error: unknown): Classified => {
  const classified = classifyUnredacted(error)
  // Upstream error text can echo the request's credentials; it reaches clients, logs and /ai/status.
  return { ...classified, message: redactString(classified.message) }
}

const classifyUnredacted = (error: unknown): Classified => {
  if (error instanceof ProviderFailure) {
    return { kind: error.kind, message: error.message, status: error.status, retryAfterMs: error.retryAfterMs }
  }
  if (typeof error !== "object" || error === null) return { kind: "server", message: String(error) }
  const body = bodyOf(error)
  const message = messageOf(error, body)
  const status = (error as { readonly status?: unknown }).status
  if (typeof status === "number") {
    const kind = byStatus(status)
    const retryAfter =
      kind === "rate_limited" ? retryAfterMs((error as { readonly headers?: unknown }).headers) : undefined
    return { kind, message, status, ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }) }
  }
  if (typeof body?.type === "string") return { kind: byType(body.type), message }
  const name = `${(error as Error).name} ${error.constructor?.name ?? ""}`
  const code = (error as { readonly code?: unknown }).code
  if (/timeout/i.test(name) || (typeof code === "string" && timeoutCodes.test(code)))
    return { kind: "timeout", message }
  if (
    /connection/i.test(name) ||
    error instanceof TypeError ||
    (typeof code === "string" && connectionCodes.test(code))
  )
    return { kind: "connection", message }
  return { kind: "server", message }
}

// What an HTTP client on a socket throws (Node's `net`, undici's pool) when the connection could
// not be made or broke, by its `code`: the SDKs and `fetch` wrap the same in their own errors.
const connectionCodes =
  /^(ECONNREFUSED|ECONNRESET|ECONNABORTED|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|UND_ERR_SOCKET|UND_ERR_CLOSED)$/
const timeoutCodes = /^(ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT)$/
