import { Effect, Layer } from "effect"
import { HttpRouter, HttpServer, type HttpServerResponse } from "effect/http"
import { HttpApiBuilder, HttpApiScalar } from "effect/http-api"
import { KeysHandlers } from "./access/http/KeysHandlers.ts"
import { Authenticated } from "./access/http/Middleware.ts"
import { AuthenticatedLive, ErrorHandlingLive } from "./access/http/MiddlewareLive.ts"
import type { KeyStore } from "./access/ports/KeyStore.ts"
import type { RateLimitStore } from "./access/ports/RateLimitStore.ts"
import * as Authentication from "./access/services/Authentication.ts"
import * as Keys from "./access/services/Keys.ts"
import * as RateLimiter from "./access/services/RateLimiter.ts"
import * as Usage from "./access/services/Usage.ts"
import * as UsageRecorder from "./access/services/UsageRecorder.ts"
import { AiHandlers, AiStatusHandlers } from "./ai/http/AiHandlers.ts"
import { OpenAiCompatHandlers } from "./ai/http/OpenAiCompatHandlers.ts"
import * as ModelRouter from "./ai/services/ModelRouter.ts"
import { GatewayConfig } from "./config/GatewayConfig.ts"
import { Api } from "./http/Api.ts"
import * as Edge from "./http/Edge.ts"
import * as RouteTable from "./http/RouteTable.ts"
import { SystemHandlers } from "./http/SystemHandlers.ts"
import { AdminSyncHandlers } from "./releases/http/AdminHandlers.ts"
import * as ConditionalResponses from "./releases/http/ConditionalResponses.ts"
import { ProjectsHandlers } from "./releases/http/ProjectsHandlers.ts"
import { UpdatesHandlers } from "./releases/http/UpdatesHandlers.ts"
import type { DownloadStore } from "./releases/ports/DownloadStore.ts"
import type { ReleaseSource } from "./releases/ports/ReleaseSource.ts"
import * as Releases from "./releases/services/Releases.ts"
import * as Updates from "./releases/services/Updates.ts"

export const openapiPath = "/openapi.json"
export const docsPath = "/docs"

/** What the gateway needs from its host: the ports and the configuration. */
export type Requirements = GatewayConfig | ReleaseSource | KeyStore | DownloadStore | RateLimitStore

const Services = Layer.mergeAll(Keys.layer, Updates.layer, RateLimiter.layer, UsageRecorder.layer).pipe(
  Layer.provideMerge(Layer.mergeAll(Authentication.layer, Releases.layer))
)

const probePaths = new Set(["/health", "/health/live", "/health/ready"])
const publicDocumentPaths = new Set([openapiPath, docsPath, "/ai/status"])

/**
 * The buckets a path counts against: the health probes never (an orchestrator probing every few
 * seconds must not mark the gateway down), the public documents a generous bucket of their own,
 * every other AI route the key's AI bucket too.
 */
export const rateLimitClass = (path: string): Edge.RateLimitClass => {
  if (probePaths.has(path)) return "none"
  if (publicDocumentPaths.has(path)) return "public"
  return path.startsWith("/ai/") || path.startsWith("/v1/") ? "ai" : "api"
}

// The AI routes share one ModelRouter (providers from the configuration plus registered ones) and
// count tokens into the keys' usage.
const AiRoutes = Layer.mergeAll(AiStatusHandlers, AiHandlers, OpenAiCompatHandlers).pipe(
  Layer.provide(ModelRouter.layer),
  Layer.provide(Layer.effect(Usage.Usage, Effect.map(Effect.service(UsageRecorder.UsageRecorder), Usage.fromRecorder)))
)

// The middleware is merged in as well as provided: the router resolves it when the routes are built.
const Handlers = Layer.mergeAll(
  SystemHandlers,
  ProjectsHandlers,
  UpdatesHandlers,
  AdminSyncHandlers,
  KeysHandlers,
  AiRoutes
).pipe(Layer.provideMerge(Layer.mergeAll(AuthenticatedLive, ErrorHandlingLive)))

const Routes = HttpApiBuilder.layer(Api, { openapiPath }).pipe(
  Layer.provide(Handlers),
  Layer.merge(HttpApiScalar.layer(Api, { path: docsPath }))
)

const EdgeLive = HttpRouter.middleware(
  Effect.gen(function* () {
    const config = yield* GatewayConfig
    const authentication = yield* Authentication.Authentication
    const rateLimiter = yield* RateLimiter.RateLimiter
    const usage = yield* UsageRecorder.UsageRecorder
    const routes = RouteTable.fromApi(Api, Authenticated, [
      { method: "GET", path: openapiPath, public: true },
      { method: "GET", path: docsPath, public: true }
    ])
    const edge = Edge.make({
      docsUrl: config.docsUrl,
      maxBodyBytes: config.maxBodyBytes,
      docsPath,
      routes,
      authenticate: authentication.authenticate,
      rateLimiter,
      usage,
      cors: { origins: config.corsOrigins },
      trustProxy: config.trustProxy,
      rateLimitClass
    })
    // Inside the edge, so 304s get the request id and security headers, and see paths without /api/v2.
    const conditional = ConditionalResponses.make({ catalogMaxAgeSeconds: Math.floor(config.cacheTtlMs / 1000) })
    return <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) => edge(conditional(app))
  }),
  { global: true }
)

/**
 * The whole gateway as one layer of routes: the HttpApi, its documentation, and the edge. It needs
 * only the ports and the configuration, so every runtime serves it unchanged.
 */
export const layer = Layer.mergeAll(Routes, EdgeLive).pipe(Layer.provide(Services))

/**
 * A Web-standard `(Request) => Promise<Response>` for the gateway over the given ports, for
 * Workers, tests and embedding. Call `dispose` to release it.
 */
export const webHandler = <E>(ports: Layer.Layer<Requirements, E>) =>
  HttpRouter.toWebHandler(layer.pipe(Layer.provide(ports), Layer.provide(HttpServer.layerServices)), {
    disableLogger: true
  })
