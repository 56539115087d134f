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

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")

/** A strong validator of the exact body bytes: SHA-256 (native everywhere), 128 bits kept. */
export const etagOf = async (body: Uint8Array): Promise<string> => {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body as Uint8Array<ArrayBuffer>))
  return `"${base64url(digest.subarray(0, 16)).replace(/=+$/, "")}"`
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

const varyWith = (existing: string | undefined) =>
  existing === undefined || existing === "" ? "Authorization" : `${existing}, Authorization`

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
        return Effect.map(
          Effect.promise(() => etagOf(body.body)),
          (etag) => {
            const headers = {
              etag,
              "cache-control":
                policy === "update" ? "private, no-cache" : `private, max-age=${options.catalogMaxAgeSeconds}`,
              vary: varyWith(response.headers.vary)
            }
            return matches(request.headers["if-none-match"], etag)
              ? HttpServerResponse.empty({ status: 304, headers })
              : HttpServerResponse.setHeaders(response, headers)
          }
        )
      })
    })
