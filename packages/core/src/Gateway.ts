import { Effect, Layer } from "effect"
import { HttpRouter, HttpServer, type HttpServerResponse } from "effect/http"
import { HttpApiBuilder, HttpApiScalar } from "effect/http-api"
import { GatewayConfig } from "./config/GatewayConfig.ts"
import { AdminSyncHandlers } from "./http/AdminHandlers.ts"
import { AiHandlers, AiStatusHandlers } from "./http/AiHandlers.ts"
import { Api } from "./http/Api.ts"
import * as ConditionalResponses from "./http/ConditionalResponses.ts"
import * as Edge from "./http/Edge.ts"
import { KeysHandlers } from "./http/KeysHandlers.ts"
import { Authenticated } from "./http/Middleware.ts"
import { AuthenticatedLive, ErrorHandlingLive } from "./http/MiddlewareLive.ts"
import { OpenAiCompatHandlers } from "./http/OpenAiCompatHandlers.ts"
import { ProjectsHandlers } from "./http/ProjectsHandlers.ts"
import * as RouteTable from "./http/RouteTable.ts"
import { SystemHandlers } from "./http/SystemHandlers.ts"
import { UpdatesHandlers } from "./http/UpdatesHandlers.ts"
import type { DownloadStore } from "./ports/DownloadStore.ts"
import type { KeyStore } from "./ports/KeyStore.ts"
import type { RateLimitStore } from "./ports/RateLimitStore.ts"
import type { ReleaseSource } from "./ports/ReleaseSource.ts"
import * as Authentication from "./services/Authentication.ts"
import * as Keys from "./services/Keys.ts"
import * as ModelRouter from "./services/ModelRouter.ts"
import * as RateLimiter from "./services/RateLimiter.ts"
import * as Releases from "./services/Releases.ts"
import * as Updates from "./services/Updates.ts"
import * as Usage from "./services/Usage.ts"
import * as UsageRecorder from "./services/UsageRecorder.ts"

export const openapiPath = "/openapi.json"
export const docsPath = "/docs"

/** What the gateway needs from its host: the ports and the configuration. */
export type Requirements = GatewayConfig | ReleaseSource | KeyStore | DownloadStore | RateLimitStore

const Services = Layer.mergeAll(Keys.layer, Updates.layer, RateLimiter.layer, UsageRecorder.layer).pipe(
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
