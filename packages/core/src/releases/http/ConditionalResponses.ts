import { type HttpServerRequest, HttpServerResponse } from "effect/http"
import { boundedMemo } from "../../BoundedMemo.ts"

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

const textEncoder = new TextEncoder()

/**
 * A strong validator of the exact body bytes (a string's UTF-8 bytes): a 128-bit hash (four 32-bit multiply-xor lanes, after
 * cyrb128). It is not cryptographic and need not be: it tells representations apart, synchronously
 * and in well under a microsecond per kilobyte, on the request path.
 */
export const etagOf = (body: Uint8Array | string): string => {
  if (typeof body === "string") {
    // JSON is usually ASCII, whose characters are its UTF-8 bytes; anything else is encoded first.
    for (let i = 0; i < body.length; i++) if (body.charCodeAt(i) > 0x7f) return etagOf(textEncoder.encode(body))
  }
  const text = typeof body === "string" ? body : undefined
  const bytes = typeof body === "string" ? undefined : body
  let h1 = 1779033703
  let h2 = 3144134277
  let h3 = 1013904242
  let h4 = 2773480762
  for (let i = 0; i < body.length; i++) {
    const byte = text === undefined ? bytes![i]! : text.charCodeAt(i)
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

// Catalog reads and update checks answer the same few bodies again and again.
const etagOfText = boundedMemo(etagOf)

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

/** The validators of a cacheable answer, and whether the client's copy is current (a `304`). */
export interface Validation {
  readonly headers: Record<string, string>
  readonly notModified: boolean
}

/**
 * The validators of a successful JSON answer of a cacheable route, synchronously; `undefined` for
 * every other answer. `path` is the request's path without `/api/v2`.
 */
export const validate =
  (options: Options) =>
  (
    method: string,
    path: string,
    body: Uint8Array | string,
    vary: string | undefined,
    ifNoneMatch: string | undefined
  ): Validation | undefined => {
    const policy = policyFor(method, path)
    if (policy === undefined) return undefined
    const etag = typeof body === "string" ? etagOfText(body) : etagOf(body)
    return {
      headers: {
        etag,
        "cache-control": policy === "update" ? "private, no-cache" : `private, max-age=${options.catalogMaxAgeSeconds}`,
        vary: varyWith(vary, policy)
      },
      notModified: matches(ifNoneMatch, etag)
    }
  }

/** {@link validate} applied to a response of the edge: only successful JSON answers are touched (and hashed). */
export const make = (options: Options) => {
  const validation = validate(options)
  return (
    request: HttpServerRequest.HttpServerRequest,
    path: string,
    response: HttpServerResponse.HttpServerResponse
  ): HttpServerResponse.HttpServerResponse => {
    const body = response.body
    if (response.status !== 200 || body._tag !== "Uint8Array" || !body.contentType.includes("json")) return response
    const validators = validation(
      request.method,
      path,
      body.body,
      response.headers.vary,
      request.headers["if-none-match"]
    )
    if (validators === undefined) return response
    return validators.notModified
      ? HttpServerResponse.empty({ status: 304, headers: validators.headers })
      : HttpServerResponse.setHeaders(response, validators.headers)
  }
}
