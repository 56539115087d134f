import { Effect, Layer } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import { HttpApiBuilder, HttpApiScalar } from "effect/http-api"
import { GatewayConfig } from "./config/GatewayConfig.ts"
import { Api } from "./http/Api.ts"
import * as Edge from "./http/Edge.ts"
import { Authenticated } from "./http/Middleware.ts"
import { AuthenticatedLive, ErrorHandlingLive } from "./http/MiddlewareLive.ts"
import { ProjectsHandlers } from "./http/ProjectsHandlers.ts"
import * as RouteTable from "./http/RouteTable.ts"
import { SystemHandlers } from "./http/SystemHandlers.ts"
import { UpdatesHandlers } from "./http/UpdatesHandlers.ts"
import type { DownloadStore } from "./ports/DownloadStore.ts"
import type { KeyStore } from "./ports/KeyStore.ts"
import type { ReleaseSource } from "./ports/ReleaseSource.ts"
import * as Authentication from "./services/Authentication.ts"
import * as Releases from "./services/Releases.ts"
import * as Updates from "./services/Updates.ts"

export const openapiPath = "/openapi.json"
export const docsPath = "/docs"

/** What the gateway needs from its host: the ports and the configuration. */
export type Requirements = GatewayConfig | ReleaseSource | KeyStore | DownloadStore

const Services = Layer.mergeAll(Authentication.layer, Updates.layer).pipe(Layer.provideMerge(Releases.layer))

// The middleware is merged in as well as provided: the router resolves it when the routes are built.
const Handlers = Layer.mergeAll(SystemHandlers, ProjectsHandlers, UpdatesHandlers).pipe(
  Layer.provideMerge(Layer.mergeAll(AuthenticatedLive, ErrorHandlingLive))
)

const Routes = HttpApiBuilder.layer(Api, { openapiPath }).pipe(
  Layer.provide(Handlers),
  Layer.merge(HttpApiScalar.layer(Api, { path: docsPath }))
)

const EdgeLive = HttpRouter.middleware(
  Effect.gen(function* () {
    const config = yield* GatewayConfig
    const authentication = yield* Authentication.Authentication
    const routes = RouteTable.fromApi(Api, Authenticated, [
      { method: "GET", path: openapiPath, public: true },
      { method: "GET", path: docsPath, public: true }
    ])
    return Edge.make({
      docsUrl: config.docsUrl,
      maxBodyBytes: config.maxBodyBytes,
      docsPath,
      routes,
      isAuthenticated: (authorization) => {
        const credential = authorization?.match(/^Bearer\s+(.+)$/i)?.[1]
        if (credential === undefined) return Effect.succeed(false)
        return authentication.authenticate(credential).pipe(
          Effect.as(true),
          Effect.catch(() => Effect.succeed(false))
        )
      }
    })
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
