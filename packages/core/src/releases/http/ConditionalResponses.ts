import { type HttpServerRequest, HttpServerResponse } from "effect/http"

/**
 * Conditional responses for the catalog (`GET /projects...`) and update checks: a strong `ETag`
 * derived from the body, `Cache-Control`, and `304 Not Modified` when `If-None-Match` names the
 * current representation, so a client that revalidates downloads nothing when nothing changed.
 * Answers vary by API key (restricted keys see fewer projects), hence `private` and `Vary`.
 */
export interface Options {
  /** `max-age` of catalog reads, in seconds (from `CACHE_TTL`). Update checks always revalidate. */
  readonly catalogMaxAgeSeconds: number
}

type Policy = "catalog" | "update"

const updatePath = /^\/projects\/[^/]+\/channels\/[^/]+\/update\/?$/

/** Which answers are cacheable; paths are those after the edge removed any `/api/v2` prefix. */
export const policyFor = (method: string, path: string): Policy | undefined => {
  if (method !== "GET" && method !== "HEAD") return undefined
  if (path !== "/projects" && !path.startsWith("/projects/")) return undefined
  return updatePath.test(path) ? "update" : "catalog"
}

/**
 * A strong validator of the exact body bytes: a 128-bit hash (four 32-bit multiply-xor lanes, after
 * cyrb128). It is not cryptographic and need not be: it tells representations apart, synchronously
 * and in well under a microsecond per kilobyte, on the request path.
 */
export const etagOf = (body: Uint8Array): string => {
  let h1 = 1779033703
  let h2 = 3144134277
  let h3 = 1013904242
  let h4 = 2773480762
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!
    h1 = h2 ^ Math.imul(h1 ^ byte, 597399067)
    h2 = h3 ^ Math.imul(h2 ^ byte, 2869860233)
    h3 = h4 ^ Math.imul(h3 ^ byte, 951274213)
    h4 = h1 ^ Math.imul(h4 ^ byte, 2716044179)
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067)
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233)
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213)
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179)
  h1 ^= h2 ^ h3 ^ h4
  h2 ^= h1
  h3 ^= h1
  h4 ^= h1
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0")
  return `"${hex(h1)}${hex(h2)}${hex(h3)}${hex(h4)}"`
}

/**
 * Whether `If-None-Match` matches: `*`, or any listed tag equal to `etag` by weak comparison
 * (RFC 9110 13.1.2: `W/` prefixes are ignored for `If-None-Match`).
 */
export const matches = (ifNoneMatch: string | undefined, etag: string): boolean => {
  if (ifNoneMatch === undefined) return false
  return ifNoneMatch.split(",").some((candidate) => {
    const tag = candidate.trim().replace(/^W\//, "")
    return tag === "*" || tag === etag
  })
}

// An update check's answer also depends on the client id, which places the client in staged rollouts.
const varyWith = (existing: string | undefined, policy: Policy) => {
  const own = policy === "update" ? "Authorization, X-Client-Id" : "Authorization"
  return existing === undefined || existing === "" ? own : `${existing}, ${own}`
}

/**
 * Adds the validators to a response of the edge, synchronously: only successful JSON answers of
 * the cacheable routes are touched (and hashed); `path` is the request's path without `/api/v2`.
 */
export const make =
  (options: Options) =>
  (
    request: HttpServerRequest.HttpServerRequest,
    path: string,
    response: HttpServerResponse.HttpServerResponse
  ): HttpServerResponse.HttpServerResponse => {
    if (response.status !== 200) return response
    const policy = policyFor(request.method, path)
    const body = response.body
    if (policy === undefined || body._tag !== "Uint8Array" || !body.contentType.includes("json")) return response
    const etag = etagOf(body.body)
    const headers = {
      etag,
      "cache-control": policy === "update" ? "private, no-cache" : `private, max-age=${options.catalogMaxAgeSeconds}`,
      vary: varyWith(response.headers.vary, policy)
    }
    return matches(request.headers["if-none-match"], etag)
      ? HttpServerResponse.empty({ status: 304, headers })
      : HttpServerResponse.setHeaders(response, headers)
  }
