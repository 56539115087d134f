import { HttpApi, type HttpApiGroup } from "effect/http-api"

/**
 * Every path the gateway answers and the methods it answers them with, so the edge can tell an
 * unknown path (404) from a known path asked with the wrong method (405), and a public path from
 * one behind authentication.
 */
export interface RouteEntry {
  readonly method: string
  readonly pattern: RegExp
  readonly public: boolean
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

export const compilePath = (path: string): RegExp =>
  new RegExp(
    `^${path
      .split("/")
      .map((segment) => (segment.startsWith(":") ? "[^/]+" : escapeRegExp(segment)))
      .join("/")}/?$`
  )

export const fromApi = <Id extends string, Groups extends HttpApiGroup.Constraint>(
  api: HttpApi.HttpApi<Id, Groups>,
  /** The middleware that marks an endpoint as protected. */
  authentication: unknown,
  extra: ReadonlyArray<{ readonly method: string; readonly path: string; readonly public: boolean }> = []
): ReadonlyArray<RouteEntry> => {
  const entries: Array<RouteEntry> = []
  HttpApi.reflect(api, {
    onGroup: () => {},
    onEndpoint: ({ endpoint, middleware }) => {
      entries.push({
        method: endpoint.method,
        pattern: compilePath(endpoint.path),
        public: !middleware.has(authentication as never)
      })
    }
  })
  for (const route of extra)
    entries.push({ method: route.method, pattern: compilePath(route.path), public: route.public })
  return entries
}

export interface PathMatch {
  readonly allowed: ReadonlyArray<string>
  readonly public: boolean
}

/** The methods that answer `path`; an empty list when no route has this path. */
export const match = (table: ReadonlyArray<RouteEntry>, path: string): PathMatch => {
  const allowed: Array<string> = []
  let isPublic = false
  for (const entry of table) {
    if (entry.pattern.test(path)) {
      allowed.push(entry.method)
      isPublic ||= entry.public
    }
  }
  return { allowed, public: isPublic }
}
