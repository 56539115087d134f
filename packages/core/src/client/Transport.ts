import { Duration, Effect } from "effect"
import { HttpClient, type HttpClientError, HttpClientRequest, HttpClientResponse, UrlParams } from "effect/http"
import { fromResponse, type GatewayClientError } from "./ClientError.ts"

export interface RetryOptions {
  /** Calls per request, the first included (default 3). */
  readonly maxAttempts?: number | undefined
  /** The longest wait before a retry; an answer asking for more is returned at once (default 10 s). */
  readonly maxDelayMs?: number | undefined
}

export interface TransportOptions {
  /** The gateway API key, sent as `Authorization: Bearer`. */
  readonly apiKey?: string | undefined
  readonly retry?: RetryOptions | undefined
  /** Revalidate catalog reads with their ETag (`If-None-Match`, 304) instead of downloading them again (default true). */
  readonly revalidate?: boolean | undefined
}

/** Answers that mean "not now": the gateway did not act on the request, so sending it again is safe. */
const retryable = new Set([429, 503])

/** `Retry-After` in seconds, from either of its forms (delay in seconds, or an HTTP date). */
export const retryAfterSeconds = (header: string | undefined, now: number = Date.now()): number | undefined => {
  if (header === undefined || header.trim() === "") return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds)
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000))
}

/** How long to wait before attempt `attempt + 1`, or `undefined` when it is not worth waiting. */
const retryDelayMs = (retryAfter: number | undefined, attempt: number, maxDelayMs: number): number | undefined => {
  const delay = retryAfter === undefined ? 250 * 2 ** (attempt - 1) : retryAfter * 1000
  return delay <= maxDelayMs ? delay : undefined
}

interface Cached {
  readonly etag: string
  readonly body: string
  readonly headers: Readonly<Record<string, string>>
}

/** Bounded, so a long-lived client reading many URLs does not grow without end. */
const maxCachedEntries = 256

const rebuilt = (request: HttpClientRequest.HttpClientRequest, status: number, cached: Omit<Cached, "etag">) =>
  HttpClientResponse.fromWeb(request, new Response(cached.body, { status, headers: cached.headers }))

/**
 * Wraps an `HttpClient` into the gateway's transport: the bearer key on every request; 429 and 503
 * retried after their `Retry-After` (or a short backoff when absent) within `retry`; GET answers
 * carrying an ETag kept and revalidated with `If-None-Match`, a 304 answered from the copy; and
 * every error answer turned into a `GatewayClientError` carrying the envelope.
 */
export const make = (
  base: HttpClient.HttpClient,
  options: TransportOptions = {}
): HttpClient.HttpClient.With<GatewayClientError | HttpClientError.HttpClientError> => {
  const maxAttempts = Math.max(1, options.retry?.maxAttempts ?? 3)
  const maxDelayMs = options.retry?.maxDelayMs ?? 10_000
  const cache = new Map<string, Cached>()
  const client =
    options.apiKey === undefined ? base : HttpClient.mapRequest(base, HttpClientRequest.bearerToken(options.apiKey))

  const sendOnce = (request: HttpClientRequest.HttpClientRequest) =>
    Effect.gen(function* () {
      const key = request.method === "GET" && options.revalidate !== false ? cacheKey(request) : undefined
      const cached = key === undefined ? undefined : cache.get(key)
      const response = yield* client.execute(
        cached === undefined ? request : HttpClientRequest.setHeader(request, "if-none-match", cached.etag)
      )
      if (cached !== undefined && response.status === 304) return rebuilt(request, 200, cached)
      const etag = response.headers.etag
      if (key === undefined || etag === undefined || response.status !== 200) return response
      const body = yield* response.text
      cache.delete(key)
      cache.set(key, { etag, body, headers: response.headers })
      if (cache.size > maxCachedEntries) cache.delete(cache.keys().next().value!)
      return rebuilt(request, 200, { body, headers: response.headers })
    })

  const send = (
    request: HttpClientRequest.HttpClientRequest,
    attempt: number
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, GatewayClientError | HttpClientError.HttpClientError> =>
    Effect.gen(function* () {
      const response = yield* sendOnce(request)
      if (response.status < 400) return response
      const retryAfter = retryAfterSeconds(response.headers["retry-after"])
      const delay = retryDelayMs(retryAfter, attempt, maxDelayMs)
      if (retryable.has(response.status) && attempt < maxAttempts && delay !== undefined) {
        yield* Effect.sleep(Duration.millis(delay))
        return yield* send(request, attempt + 1)
      }
      const body = yield* response.json.pipe(Effect.orElseSucceed(() => undefined))
      return yield* Effect.fail(fromResponse(response.status, body, retryAfter))
    })

  return HttpClient.transform(client, (_effect, request) => send(request, 1))
}

const cacheKey = (request: HttpClientRequest.HttpClientRequest) =>
  `${request.url}?${UrlParams.toString(request.urlParams)}`
