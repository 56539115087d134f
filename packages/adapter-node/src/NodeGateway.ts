import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import {
  type AIProvider,
  BuildVerification,
  DocsPage,
  Gateway,
  GatewayConfig,
  GitHubReleaseSource,
  Hooks,
  ModelRouter,
  ReleaseSource,
  StoreObservation
} from "@lunarbit/gateway-core"
import { ConfigProvider, Effect, Layer } from "effect"
import { developmentAdminKey, requireStrongAdminKey } from "./AdminKey.ts"
import * as FileReleaseSource from "./FileReleaseSource.ts"
import * as KeyHashSecret from "./KeyHashSecret.ts"
import * as NodeArtifactDigest from "./NodeArtifactDigest.ts"
import * as NodeDocsPage from "./NodeDocsPage.ts"
import * as NodeObservability from "./NodeObservability.ts"
import * as NodeServer from "./NodeServer.ts"
import * as PinoLogger from "./PinoLogger.ts"
import * as StateDir from "./StateDir.ts"
import * as Stores from "./Stores.ts"
import * as UndiciProviderHttp from "./UndiciProviderHttp.ts"

export interface Options {
  /** Configuration values, as environment variable names; defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  /** Where to send log lines; standard output by default. */
  readonly logDestination?: PinoLogger.Destination | undefined
  /** A pino logger to log through instead of one made from `LOG_LEVEL` and `LOG_FORMAT` (see `processLogger`). */
  readonly logger?: PinoLogger.Pino | undefined
  /** AI providers of your own, routed with those from the configuration (see `AIProvider.make`). */
  readonly aiProviders?: ReadonlyArray<AIProvider.AIProviderShape> | undefined
  /**
   * Plain (async) functions called around each request: `onRequest` after authentication and rate
   * limiting, before the endpoint (throw a gateway error such as `Errors.Forbidden` to refuse it);
   * `onResponse` with the status, duration, principal and route of every answer. Effect programs
   * may provide `Hooks.layer(...)` instead.
   */
  readonly hooks?: Hooks.PromiseHooks | undefined
}

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
    if (config.adminKey._tag === "Some") return yield* requireStrongAdminKey(config, provider)
    if (config.nodeEnv === "production") {
      return yield* Effect.fail(new Error("API_KEY_ADMIN is required when NODE_ENV=production"))
    }
    const dir = yield* StateDir.config.parse(provider)
    const { key, file } = developmentAdminKey(dir)
    yield* Effect.logWarning(`API_KEY_ADMIN is not set: using the development admin key stored in ${file}`)
    return ConfigProvider.fromUnknown({ ...values, API_KEY_ADMIN: key })
  })
}

const logger = (options: Options) =>
  Layer.unwrap(
    Effect.gen(function* () {
      if (options.logger !== undefined) return PinoLogger.layer(options.logger)
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

const levels = new Set<string>(["trace", "debug", "info", "warn", "error", "fatal"])

/**
 * The process's logger, made before the configuration is read so that a configuration or start-up
 * failure is logged in the configured format too. Values the configuration will refuse fall back
 * to the defaults here (JSON at `info`); the refusal itself is then logged.
 */
export const processLogger = (env: Readonly<Record<string, string | undefined>> = process.env) =>
  PinoLogger.make({
    level: levels.has(env.LOG_LEVEL ?? "") ? (env.LOG_LEVEL as PinoLogger.Level) : "info",
    format: env.LOG_FORMAT === "pretty" ? "pretty" : "json"
  })

/**
 * The release catalog: the file, plus the GitHub repositories of `GITHUB_PROJECTS` (none by
 * default), with every build's artifact verified in the background.
 */
const releases = BuildVerification.layerConfig.pipe(
  Layer.provide(ReleaseSource.layerCombined(FileReleaseSource.layerConfig, GitHubReleaseSource.layerConfig)),
  Layer.provide(NodeArtifactDigest.layer)
)

/**
 * The ports of a Node deployment: releases as above; keys, rate limits and downloads as `Stores`
 * selects (their failures counted, their calls traced: `StoreObservation`); the AI pass-through on
 * undici's connection pool.
 */
const ports = Layer.mergeAll(releases, StoreObservation.layer(Stores.layerConfig), UndiciProviderHttp.layer())

/** Provides the configuration read from `options.env` (or `process.env`) to `layer`. */
export const withConfig = <A, E, R>(options: Options, layer: Layer.Layer<A, E, R>) =>
  Layer.unwrap(
    Effect.map(Effect.flatMap(configProvider(options.env ?? process.env), KeyHashSecret.provide), (provider) =>
      layer.pipe(Layer.provide(ConfigProvider.layer(provider)))
    )
  )

/** Logging and configuration around `layer`, which may use both. */
const hosted = <A, E, R>(options: Options, layer: Layer.Layer<A, E, R>) =>
  withConfig(
    options,
    layer.pipe(
      Layer.provide(ModelRouter.registerProviders(...(options.aiProviders ?? []))),
      Layer.provide(options.hooks === undefined ? Layer.empty : Hooks.layer(Hooks.fromPromises(options.hooks))),
      // Node has no size limit: the docs page carries its script, and works offline.
      Layer.provide(DocsPage.layer(NodeDocsPage.inlineOnFirstVisit)),
      // Metrics (METRICS_PORT) and traces (OTEL_EXPORTER_OTLP_ENDPOINT), for the app and its ports alike.
      Layer.provide(NodeObservability.layer),
      Layer.provide(logger(options)),
      Layer.provideMerge(GatewayConfig.GatewayConfig.layer)
    )
  )

/**
 * The gateway served by Node's HTTP server on `PORT`, with its ports, configuration and pino
 * logging. It listens once the gateway is ready. Launch it with `Layer.launch`; interrupting it
 * (SIGTERM, SIGINT) stops accepting connections and lets requests in flight finish.
 */
export const layer = (options: Options = {}) =>
  hosted(
    options,
    NodeServer.layer.pipe(
      Layer.provide(Gateway.layerApp),
      Layer.provide(ports),
      Layer.provideMerge(NodeHttpServer.layerHttpServices)
    )
  )

/**
 * The gateway's app without a server of its own, for mounting in an existing one (see `embed.ts`).
 */
export const appLayer = (options: Options = {}) =>
  hosted(options, Gateway.layerApp.pipe(Layer.provide(ports), Layer.provideMerge(NodeHttpServer.layerHttpServices)))
