import { Effect } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"

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

const pathOf = (url: string) => {
  const query = url.indexOf("?")
  return query === -1 ? url : url.slice(0, query)
}

// An update check's answer also depends on the client id, which places the client in staged rollouts.
const varyWith = (existing: string | undefined, policy: Policy) => {
  const own = policy === "update" ? "Authorization, X-Client-Id" : "Authorization"
  return existing === undefined || existing === "" ? own : `${existing}, ${own}`
}

/** Wraps the router: only successful JSON answers of the cacheable routes are touched. */
export const make =
  (options: Options) =>
  <E, R>(
    app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
  ): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest> =>
    Effect.flatMap(Effect.service(HttpServerRequest.HttpServerRequest), (request) => {
      const policy = policyFor(request.method, pathOf(request.url))
      if (policy === undefined) return app
      return Effect.flatMap(app, (response) => {
        const body = response.body
        if (response.status !== 200 || body._tag !== "Uint8Array" || !body.contentType.includes("json")) {
          return Effect.succeed(response)
        }
        const etag = etagOf(body.body)
        const headers = {
          etag,
          "cache-control":
            policy === "update" ? "private, no-cache" : `private, max-age=${options.catalogMaxAgeSeconds}`,
          vary: varyWith(response.headers.vary, policy)
        }
        return Effect.succeed(
          matches(request.headers["if-none-match"], etag)
            ? HttpServerResponse.empty({ status: 304, headers })
            : HttpServerResponse.setHeaders(response, headers)
        )
      })
    })
