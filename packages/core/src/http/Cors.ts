/**
 * CORS for the origins in `CORS_ORIGINS` (`*` allows any). Preflights from allowed origins are
 * answered by the edge before authentication, since browsers send them without credentials.
 */
export interface CorsPolicy {
  readonly origins: ReadonlyArray<string>
}

const allowedMethods = "GET, POST, DELETE, OPTIONS"
const allowedHeaders = "authorization, content-type, if-none-match"
const exposedHeaders =
  "x-request-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, ratelimit, ratelimit-policy, retry-after, etag"

/** The origin to echo back, when `origin` may call the API. */
export const allowedOrigin = (policy: CorsPolicy, origin: string | undefined): string | undefined =>
  origin !== undefined && (policy.origins.includes(origin) || policy.origins.includes("*")) ? origin : undefined

export const isPreflight = (method: string, headers: Readonly<Record<string, string | undefined>>): boolean =>
  method === "OPTIONS" && headers.origin !== undefined && headers["access-control-request-method"] !== undefined

/** Headers of an answered preflight. */
export const preflightHeaders = (origin: string): Record<string, string> => ({
  "access-control-allow-origin": origin,
  "access-control-allow-methods": allowedMethods,
  "access-control-allow-headers": allowedHeaders,
  "access-control-max-age": "600",
  vary: "Origin"
})

/** Headers added to an actual cross-origin response; `Origin` joins whatever the response already varies by. */
export const responseHeaders = (origin: string, vary: string | undefined): Record<string, string> => ({
  "access-control-allow-origin": origin,
  "access-control-expose-headers": exposedHeaders,
  vary: vary === undefined || vary === "" ? "Origin" : `${vary}, Origin`
})
