import { Context, Effect, Layer, Option } from "effect"
import { FindMyWay, HttpEffect, HttpServer, HttpServerRequest, type HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
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
import * as AiLane from "./ai/http/AiLane.ts"
import * as AiLaneResponse from "./ai/http/AiLaneResponse.ts"
import { OpenAiCompatHandlers } from "./ai/http/OpenAiCompatHandlers.ts"
import * as ModelRouter from "./ai/services/ModelRouter.ts"
import { GatewayConfig } from "./config/GatewayConfig.ts"
import { FeedAccessLive } from "./feeds/http/FeedAccessLive.ts"
import { FeedsHandlers } from "./feeds/http/FeedsHandlers.ts"
import * as Feeds from "./feeds/services/Feeds.ts"
import { Api } from "./http/Api.ts"
import * as DirectLane from "./http/DirectLane.ts"
import * as DocsPage from "./http/DocsPage.ts"
import * as Edge from "./http/Edge.ts"
import * as EdgeTracing from "./http/EdgeTracing.ts"
import type * as Exchange from "./http/Exchange.ts"
import { Hooks } from "./http/Hooks.ts"
import * as RequestMetrics from "./http/RequestMetrics.ts"
import * as RouteCollector from "./http/RouteCollector.ts"
import * as RouteTable from "./http/RouteTable.ts"
import { SystemHandlers } from "./http/SystemHandlers.ts"
import { Metrics } from "./observability/Metrics.ts"
import * as Tracing from "./observability/Tracing.ts"
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

// Key management sees the key store through Authentication's invalidation, so a revoked or rotated
// key stops working here at once.
const Services = Layer.mergeAll(
  Keys.layer.pipe(Layer.provide(Authentication.forgetOnChange)),
  Feeds.layer,
  RateLimiter.layer,
  UsageRecorder.layer
).pipe(
  Layer.provideMerge(Updates.layer),
  Layer.provideMerge(Rollouts.layer),
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
// count tokens into the keys' usage; both stay in the built handlers' context for the AI lane.
const AiRoutes = Layer.mergeAll(AiStatusHandlers, AiHandlers, OpenAiCompatHandlers).pipe(
  Layer.provideMerge(ModelRouter.layer),
  Layer.provideMerge(
    Layer.effect(Usage.Usage, Effect.map(Effect.service(UsageRecorder.UsageRecorder), Usage.fromRecorder))
  )
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

/** The gateway's HTTP app: the direct lane where it serves a request, the complete lane otherwise. */
export class App extends Context.Service<
  App,
  Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest>
>()("@lunarbit/gateway-core/Gateway/App") {}

/**
 * The edge's two lanes, for adapters that can serve a request from its head without the platform's
 * request object (Node): `direct` answers or returns `undefined` before any effect, and `complete`
 * serves every request.
 */
export class Lanes extends Context.Service<
  Lanes,
  {
    readonly direct: (head: DirectLane.RequestHead) => DirectLane.Served
    /** `POST /v1/chat/completions` forwarded without effects; `undefined` when it cannot serve (see `AiLane`). */
    readonly ai: AiLane.AiLane | undefined
    readonly complete: Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest>
  }
>()("@lunarbit/gateway-core/Gateway/Lanes") {}

const compile = Effect.gen(function* () {
  const config = yield* GatewayConfig
  const authentication = yield* Authentication.Authentication
  const rateLimiter = yield* RateLimiter.RateLimiter
  const usage = yield* UsageRecorder.UsageRecorder
  const docsPage = yield* DocsPage.DocsPage
  const context = yield* Effect.context<never>()
  const groups = yield* Layer.build(Handlers)
  // Every endpoint of the HttpApi as HttpApiBuilder compiles it, plus the OpenAPI document and the docs page.
  const endpoints = HttpApiBuilder.layer(Api, { openapiPath }).pipe(
    Layer.provide(Layer.succeedContext(groups)),
    Layer.merge(DocsPage.routes(docsPath))
  )
  const hooks = yield* Hooks
  const metrics = yield* Metrics
  const tracing = yield* Tracing.Enabled
  const router = FindMyWay.make<Edge.Endpoint>()
  for (const endpoint of yield* RouteCollector.collect(endpoints)) {
    if (endpoint.method === "*") router.all(endpoint.path, endpoint)
    else router.on(endpoint.method, endpoint.path, endpoint)
  }
  // The edge adds validators after the endpoint answered, so 304s get the request id and security headers.
  const conditional = { catalogMaxAgeSeconds: Math.floor(config.cacheTtlMs / 1000) }
  const observe = metrics && RequestMetrics.observer(metrics)
  const complete = EdgeTracing.traced(
    tracing,
    Edge.make
  )({
    docsUrl: config.docsUrl,
    maxBodyBytes: config.maxBodyBytes,
    docsPath,
    docsPolicy: docsPage.contentSecurityPolicy,
    router,
    routes: RouteTable.fromApi(Api, Authenticated, [
      { method: "GET", path: openapiPath, public: true },
      { method: "GET", path: docsPath, public: true }
    ]),
    authenticate: authentication.authenticate,
    rateLimiter,
    usage,
    cors: { origins: config.corsOrigins },
    trustProxy: config.trustProxy,
    rateLimitClass,
    conditional: ConditionalResponses.make(conditional),
    hooks,
    observe
  })
  // The embedder's hooks and the request spans see every request through the complete lane: with
  // hooks or tracing on, the direct lane stands aside.
  const hooked = hooks.onRequest !== undefined || hooks.onResponse !== undefined
  // What the lanes beside the complete one settle and account requests with.
  const edge: Exchange.LaneEdge = {
    docsUrl: config.docsUrl,
    authenticate: authentication.authenticate,
    rateLimiter,
    rateLimitClass,
    usage,
    accessLog: Context.get(context, Edge.AccessLog),
    observe,
    cors: { origins: config.corsOrigins },
    trustProxy: config.trustProxy
  }
  const direct =
    hooked || tracing
      ? () => undefined
      : DirectLane.make({
          ...edge,
          api: Api,
          groups: groups as Context.Context<never>,
          authentication: Authenticated,
          context,
          validate: ConditionalResponses.validate(conditional)
        })
  const forwarder = Context.get(groups as Context.Context<ModelRouter.ModelRouter>, ModelRouter.ModelRouter).forwarder
  const ai =
    hooked || tracing || forwarder === undefined
      ? undefined
      : AiLane.make({
          ...edge,
          forwarder,
          // The AI routes' `Usage` is this recorder's (`AiRoutes`): tokens go to it directly.
          recordTokens: usage.recordTokens,
          maxBodyBytes: config.maxBodyBytes
        })
  const app = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const head = {
      method: request.method,
      url: request.url,
      headers: request.headers,
      remoteAddress: Option.getOrUndefined(request.remoteAddress)
    }
    const served = direct(head)
    if (served === undefined) return ai === undefined ? complete : AiLaneResponse.serve(ai, head, request, complete)
    return Effect.isEffect(served)
      ? Effect.map(served, DirectLane.toResponse)
      : Effect.succeed(DirectLane.toResponse(served))
  })
  return Context.make(App, app).pipe(Context.add(Lanes, { direct, ai, complete }))
})

/** The gateway's app over the ports and the configuration, for adapters that serve it themselves. */
export const layerApp = Layer.effectContext(compile).pipe(Layer.provide(Services))

/**
 * The whole gateway served on the `HttpServer` in context. It needs only the ports, the configuration
 * and a server, so every runtime serves it unchanged.
 */
export const layer = Layer.effectDiscard(Effect.flatMap(App, (app) => HttpServer.serveEffect(app))).pipe(
  Layer.provide(layerApp)
)

/**
 * A Web-standard `(Request) => Promise<Response>` for the gateway over the given ports, for
 * Workers, tests and embedding. Call `dispose` to release it.
 */
export const webHandler = <E>(ports: Layer.Layer<Requirements, E>) =>
  HttpEffect.toWebHandlerLayerWith(layerApp.pipe(Layer.provide(ports), Layer.provideMerge(HttpServer.layerServices)), {
    toHandler: (context) => Effect.succeed(Context.get(context, App))
  })
