import { Schema } from "effect"

/**
 * GitHub's release JSON as the gateway reads it (other fields are ignored), and the HTTP details of
 * its answers: pagination links and rate-limit refusals.
 */
export const Asset = Schema.Struct({
  id: Schema.Number,
  name: Schema.String,
  size: Schema.Number,
  state: Schema.String,
  url: Schema.String,
  browser_download_url: Schema.String,
  created_at: Schema.String,
  updated_at: Schema.String,
  /** `sha256:<hex>`, computed by GitHub for assets uploaded since mid-2025. */
  digest: Schema.optionalKey(Schema.NullOr(Schema.String))
})
export type Asset = typeof Asset.Type

export const Release = Schema.Struct({
  id: Schema.Number,
  tag_name: Schema.String,
  name: Schema.optionalKey(Schema.NullOr(Schema.String)),
  body: Schema.optionalKey(Schema.NullOr(Schema.String)),
  draft: Schema.Boolean,
  prerelease: Schema.Boolean,
  created_at: Schema.String,
  published_at: Schema.NullOr(Schema.String),
  assets: Schema.Array(Asset)
})
export type Release = typeof Release.Type

/** The `rel="next"` target of a `Link` header. */
export const nextLink = (link: string | undefined): string | undefined => link?.match(/<([^<>]+)>;\s*rel="next"/)?.[1]

export interface HttpFailure {
  readonly status: number
  readonly message: string
  readonly headers: Readonly<Record<string, string | undefined>>
}

/** The status, message and headers of an `@octokit/request` error (or of anything thrown). */
export const asHttpFailure = (error: unknown): HttpFailure => {
  const e = error as { status?: unknown; message?: unknown; response?: { headers?: Record<string, string> } }
  return {
    status: typeof e.status === "number" ? e.status : 0,
    message: typeof e.message === "string" ? e.message : String(error),
    headers: e.response?.headers ?? {}
  }
}

/**
 * When a refusal is a rate limit, the time (epoch ms) to wait for, following GitHub's rules:
 * `retry-after` first, then `x-ratelimit-reset` once `x-ratelimit-remaining` is 0, else a minute.
 */
export const rateLimitedUntil = (failure: HttpFailure, now: number): number | undefined => {
  if (failure.status !== 403 && failure.status !== 429) return undefined
  const retryAfter = Number(failure.headers["retry-after"])
  if (failure.headers["retry-after"] !== undefined && Number.isFinite(retryAfter)) return now + retryAfter * 1000
  const reset = Number(failure.headers["x-ratelimit-reset"])
  if (failure.headers["x-ratelimit-remaining"] === "0" && Number.isFinite(reset)) return Math.max(now, reset * 1000)
  if (failure.status === 429 || /rate limit/i.test(failure.message)) return now + 60_000
  return undefined
}
