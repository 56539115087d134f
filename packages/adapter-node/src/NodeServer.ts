import type { Server } from "node:http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { type Gateway, GatewayConfig } from "@lunarbit/gateway-core"
import { Config, Effect, Exit, Layer, Schema, Scope } from "effect"
import { HttpServer, type HttpServerError } from "effect/http"
import * as NodeClientErrors from "./NodeClientErrors.ts"
import * as NodeListener from "./NodeListener.ts"
import { StoppingServer } from "./NodeStoppingServer.ts"

/**
 * How long a client may take, and how many may connect at once: slow or idle sockets must not hold
 * the server's memory and file descriptors (the spec's slowloris case).
 */
export interface Limits {
  /** `HEADERS_TIMEOUT` seconds to receive the request headers. */
  readonly headersTimeoutMs: number
  /** `REQUEST_TIMEOUT` seconds to receive the whole request, body included; then `408`. */
  readonly requestTimeoutMs: number
  /** `KEEP_ALIVE_TIMEOUT` seconds an idle keep-alive connection stays open. */
  readonly keepAliveTimeoutMs: number
  /** `MAX_CONNECTIONS`: connections beyond it are closed at once. */
  readonly maxConnections: number
}

const seconds = (name: string, fallback: number) =>
  Config.schema(Schema.Finite.check(Schema.isGreaterThan(0)), name).pipe(
    Config.withDefault(fallback),
    Config.map((value) => Math.round(value * 1000))
  )

export const limits: Config.Config<Limits> = Config.all({
  headersTimeoutMs: seconds("HEADERS_TIMEOUT", 10),
  requestTimeoutMs: seconds("REQUEST_TIMEOUT", 30),
  keepAliveTimeoutMs: seconds("KEEP_ALIVE_TIMEOUT", 5),
  maxConnections: Config.schema(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)), "MAX_CONNECTIONS").pipe(
    Config.withDefault(10_000)
  )
})

/**
 * Node's HTTP server running the gateway's app. The app is compiled (catalog loaded, stores
 * connected) and attached to the server before it listens, so no connection is ever accepted
 * without a handler to answer it. Closing the layer stops accepting connections and lets requests
 * in flight finish.
 */
export const layer: Layer.Layer<
  HttpServer.HttpServer,
  Config.ConfigError | HttpServerError.ServeError,
  Gateway.Lanes | GatewayConfig.GatewayConfig
> = Layer.effect(
  HttpServer.HttpServer,
  Effect.gen(function* () {
    const config = yield* GatewayConfig.GatewayConfig
    const host = yield* Config.option(Config.String("HOST"))
    const limit = yield* limits
    // Requests run in a scope of their own, closed only once the server has let them finish.
    const requests = Scope.forkUnsafe(yield* Effect.scope, "parallel")
    const handler = yield* NodeListener.make(requests)
    let listening: Server | undefined
    const make = () => {
      const server = new StoppingServer(
        {
          headersTimeout: Math.min(limit.headersTimeoutMs, limit.requestTimeoutMs),
          requestTimeout: limit.requestTimeoutMs,
          keepAliveTimeout: limit.keepAliveTimeoutMs,
          // How often Node looks for requests past their timeouts (30 s by default).
          connectionsCheckingInterval: Math.min(1_000, limit.headersTimeoutMs)
        },
        handler
      )
      server.maxConnections = limit.maxConnections
      listening = server
      return server.on("clientError", NodeClientErrors.handler(config.docsUrl))
    }
    const server = yield* NodeHttpServer.make(make, {
      port: config.port,
      ...(host._tag === "Some" ? { host: host.value } : {})
    })
    // Runs before the server's own finalizer: stop accepting, let requests in flight finish (up to
    // the request timeout), then end their scope.
    yield* Effect.addFinalizer(() =>
      Effect.callback<void>((resume) => {
        if (listening === undefined || !listening.listening) return resume(Effect.void)
        listening.close(() => resume(Effect.void))
        listening.closeIdleConnections()
      }).pipe(
        Effect.timeoutOrElse({ duration: limit.requestTimeoutMs, orElse: () => Effect.void }),
        Effect.andThen(Scope.close(requests, Exit.void))
      )
    )
    yield* Effect.provideService(HttpServer.logAddress, HttpServer.HttpServer, server)
    return server
  })
)
