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
import { FeedAccessLive } from "./feeds/http/FeedAccessLive.ts"
import { FeedsHandlers } from "./feeds/http/FeedsHandlers.ts"
import * as Feeds from "./feeds/services/Feeds.ts"
import { Api } from "./http/Api.ts"
import * as Edge from "./http/Edge.ts"
import * as RouteTable from "./http/RouteTable.ts"
import { SystemHandlers } from "./http/SystemHandlers.ts"
import { AdminSyncHandlers } from "./releases/http/AdminHandlers.ts"
import * as ConditionalResponses from "./releases/http/ConditionalResponses.ts"
import { ProjectsHandlers } from "./releases/http/ProjectsHandlers.ts"
import { AdminRolloutsHandlers } from "./releases/http/RolloutsHandlers.ts"
import { UpdatesHandlers } from "./releases/http/UpdatesHandlers.ts"
import type { DownloadStore } from "./releases/ports/DownloadStore.ts"
import type { ReleaseSource } from "./releases/ports/ReleaseSource.ts"
import type { RolloutStore } from "./releases/ports/RolloutStore.ts"
import * as Releases from "./releases/services/Releases.ts"
import * as Rollouts from "./releases/services/Rollouts.ts"
import * as Updates from "./releases/services/Updates.ts"

export const openapiPath = "/openapi.json"
export const docsPath = "/docs"

/** What the gateway needs from its host: the ports and the configuration. */
export type Requirements = GatewayConfig | ReleaseSource | KeyStore | DownloadStore | RateLimitStore | RolloutStore

const Services = Layer.mergeAll(Keys.layer, Feeds.layer, RateLimiter.layer, UsageRecorder.layer).pipe(
  Layer.provideMerge(Updates.layer),
  Layer.provideMerge(Rollouts.layer),
  Layer.provideMerge(Layer.mergeAll(Authentication.layer, Releases.layer))
)

/** Paths whose requests count against the per-key AI bucket: every AI route, `/ai/status` included. */
export const isAiPath = (path: string): boolean => path.startsWith("/ai/") || path.startsWith("/v1/")

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
  AdminRolloutsHandlers,
  FeedsHandlers,
  KeysHandlers,
  AiRoutes
).pipe(Layer.provideMerge(Layer.mergeAll(AuthenticatedLive, FeedAccessLive, ErrorHandlingLive)))

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
      isAiPath
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
