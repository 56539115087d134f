import { NodeHttpServer } from "@effect/platform-node"
import {
  type AIProvider,
  BuildVerification,
  Gateway,
  GatewayConfig,
  GitHubReleaseSource,
  ModelRouter,
  ReleaseSource
} from "@lunarbit/gateway-core"
import { Config, ConfigProvider, Effect, Layer } from "effect"
import { HttpRouter } from "effect/http"
import { developmentAdminKey } from "./AdminKey.ts"
import * as FileReleaseSource from "./FileReleaseSource.ts"
import * as NodeArtifactDigest from "./NodeArtifactDigest.ts"
import * as NodeClientErrors from "./NodeClientErrors.ts"
import { StoppingServer } from "./NodeStoppingServer.ts"
import * as PinoLogger from "./PinoLogger.ts"
import * as Stores from "./Stores.ts"

export interface Options {
  /** Configuration values, as environment variable names; defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  /** Where to send log lines; standard output by default. */
  readonly logDestination?: PinoLogger.Destination | undefined
  /** AI providers of your own, routed with those from the configuration (see `AIProvider.make`). */
  readonly aiProviders?: ReadonlyArray<AIProvider.AIProviderShape> | undefined
}

/** Where the Node adapter keeps local state (the development admin key). */
const stateDir = Config.String("LUNARBIT_STATE_DIR").pipe(Config.withDefault(".lunarbit"))

const definedOnly = (env: Readonly<Record<string, string | undefined>>) =>
  Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))

/**
 * The configuration provider of a Node process. Outside production, a missing `API_KEY_ADMIN` is
 * filled with a development key kept in the state directory (see `AdminKey.ts`).
 */
export const configProvider = (env: Readonly<Record<string, string | undefined>>) => {
  const values = definedOnly(env)
  const provider = ConfigProvider.fromUnknown(values)
  return Effect.gen(function* () {
    const config = yield* GatewayConfig.config.parse(provider)
    if (config.adminKey._tag === "Some") return provider
    if (config.nodeEnv === "production") {
      return yield* Effect.fail(new Error("API_KEY_ADMIN is required when NODE_ENV=production"))
    }
    const dir = yield* stateDir.parse(provider)
    const { key, file } = developmentAdminKey(dir)
    yield* Effect.logWarning(`API_KEY_ADMIN is not set: using the development admin key stored in ${file}`)
    return ConfigProvider.fromUnknown({ ...values, API_KEY_ADMIN: key })
  })
}

const logger = (options: Options) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const config = yield* GatewayConfig.GatewayConfig
      return PinoLogger.layer(
        PinoLogger.make({
          level: config.logLevel,
          format: config.logFormat,
          ...(options.logDestination ? { destination: options.logDestination } : {})
        })
      )
    })
  )

/**
 * The release catalog: the file, plus the GitHub repositories of `GITHUB_PROJECTS` (none by
 * default), with every build's artifact verified in the background.
 */
const releases = BuildVerification.layerConfig.pipe(
  Layer.provide(ReleaseSource.layerCombined(FileReleaseSource.layerConfig, GitHubReleaseSource.layerConfig)),
  Layer.provide(NodeArtifactDigest.layer)
)

/** The ports of a Node deployment: releases as above; keys, rate limits and downloads as `Stores` selects. */
const ports = Layer.mergeAll(releases, Stores.layerConfig)

const server = Layer.unwrap(
  Effect.gen(function* () {
    const config = yield* GatewayConfig.GatewayConfig
    const host = yield* Config.option(Config.String("HOST"))
    const onClientError = NodeClientErrors.handler(config.docsUrl)
    const make = () => new StoppingServer().on("clientError", onClientError)
    return NodeHttpServer.layer(make, {
      port: config.port,
      ...(host._tag === "Some" ? { host: host.value } : {})
    })
  })
)

/** Provides the configuration read from `options.env` (or `process.env`) to `layer`. */
export const withConfig = <A, E, R>(options: Options, layer: Layer.Layer<A, E, R>) =>
  Layer.unwrap(
    Effect.map(configProvider(options.env ?? process.env), (provider) =>
      layer.pipe(Layer.provide(ConfigProvider.layer(provider)))
    )
  )

/** Logging and configuration around `layer`, which may use both. */
const hosted = <A, E, R>(options: Options, layer: Layer.Layer<A, E, R>) =>
  withConfig(
    options,
    layer.pipe(
      Layer.provide(ModelRouter.registerProviders(...(options.aiProviders ?? []))),
      Layer.provide(logger(options)),
      Layer.provideMerge(GatewayConfig.GatewayConfig.layer)
    )
  )

/**
 * The gateway served by Node's HTTP server on `PORT`, with its ports, configuration and pino
 * logging. Launch it with `Layer.launch`; interrupting it (SIGTERM, SIGINT) stops accepting
 * connections and lets requests in flight finish.
 */
export const layer = (options: Options = {}) =>
  hosted(
    options,
    HttpRouter.serve(Gateway.layer, { disableLogger: true }).pipe(Layer.provide(ports), Layer.provideMerge(server))
  )

/**
 * The gateway's router without a server of its own, for mounting in an existing one (see `embed.ts`).
 */
export const routerLayer = (options: Options = {}) =>
  hosted(
    options,
    Layer.provideMerge(Gateway.layer, HttpRouter.layer).pipe(
      Layer.provide(ports),
      Layer.provideMerge(NodeHttpServer.layerHttpServices)
    )
  )
