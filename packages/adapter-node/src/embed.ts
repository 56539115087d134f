import type { IncomingMessage, ServerResponse } from "node:http"
import { Effect, Exit, Layer, Scope } from "effect"
import * as NodeGateway from "./NodeGateway.ts"
import * as NodeListener from "./NodeListener.ts"

export interface EmbeddedGateway {
  /**
   * Answers `request` when its path is under the prefix and returns `true`; returns `false`,
   * without touching the response, for every other path, so the host server can answer it.
   */
  readonly handle: (request: IncomingMessage, response: ServerResponse) => boolean
  /** Releases the gateway (file watchers, background work). Requests in flight finish first. */
  readonly close: () => Promise<void>
}

export interface EmbedOptions extends NodeGateway.Options {
  /** Path under which the gateway answers, e.g. `/updates`; the gateway sees paths without it. */
  readonly prefix?: string | undefined
}

const normalizePrefix = (prefix: string | undefined) => {
  if (prefix === undefined || prefix === "" || prefix === "/") return ""
  return `/${prefix.replace(/^\/+|\/+$/g, "")}`
}

/**
 * Mounts the gateway in an existing `node:http` server (or Express, Fastify's raw handler...) under
 * a path prefix. Configuration and ports are those of the standalone server.
 *
 * ```ts
 * const gateway = await embed({ prefix: "/updates" })
 * createServer((req, res) => gateway.handle(req, res) || myApp(req, res)).listen(8080)
 * ```
 */
export const embed = async (options: EmbedOptions = {}): Promise<EmbeddedGateway> => {
  const prefix = normalizePrefix(options.prefix)
  const scope = Scope.makeUnsafe()
  const handler = await Effect.runPromise(
    Effect.gen(function* () {
      const context = yield* Layer.buildWithScope(NodeGateway.appLayer(options), scope)
      return yield* NodeListener.make(scope).pipe(Effect.provideContext(context))
    }).pipe(Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause))))
  )

  const handle = (request: IncomingMessage, response: ServerResponse): boolean => {
    const url = request.url ?? "/"
    if (prefix !== "") {
      const rest = url.slice(prefix.length)
      if (!url.startsWith(prefix) || (rest !== "" && rest[0] !== "/" && rest[0] !== "?")) return false
      request.url = rest === "" || rest[0] === "?" ? `/${rest}` : rest
    }
    handler(request, response)
    return true
  }

  return { handle, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
