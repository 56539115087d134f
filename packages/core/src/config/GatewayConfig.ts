import { Config, Context, Effect, Layer, type Option, type Redacted, Schema } from "effect"
import * as AiConfig from "../ai/services/AiConfig.ts"
import * as GitHubProjects from "../releases/github/GitHubProjects.ts"

/**
 * LunarCore LC-CFG: every setting the gateway reads, with its environment variable and default.
 * The core never reads the environment itself; each runtime adapter supplies a `ConfigProvider`
 * (the process environment on Node, the Worker's bindings on Cloudflare).
 */
export interface GatewayConfigShape {
  readonly nodeEnv: "development" | "production" | "test"
  readonly port: number
  /** `API_KEY_ADMIN`: the key that holds every permission. */
  readonly adminKey: Option.Option<Redacted.Redacted<string>>
  /** `API_KEY_READ`: a key that reads the catalog and checks updates, for deployments without a key store. */
  readonly readKey: Option.Option<Redacted.Redacted<string>>
  /** `KEY_HASH_SECRET`: the HMAC secret keys are hashed with; defaults to the admin key. */
  readonly keyHashSecret: Option.Option<Redacted.Redacted<string>>
  readonly githubToken: Option.Option<Redacted.Redacted<string>>
  readonly lmstudioEnabled: boolean
  readonly lmstudioBaseUrl: string
  readonly openaiApiKey: Option.Option<Redacted.Redacted<string>>
  readonly openaiEnabled: boolean
  /** `CACHE_TTL` in milliseconds. */
  readonly cacheTtlMs: number
  readonly logLevel: "trace" | "debug" | "info" | "warn" | "error" | "fatal"
  readonly logFormat: "json" | "pretty"
  /** The project id of the launcher application, answered in `launcher_update` of `POST /update/check`. */
  readonly launcherProjectId: string
  readonly launcherChannel: string
  /** Base of each error's `documentation_url`; the error code is appended as the fragment. */
  readonly docsUrl: string
  /** Origins allowed by CORS; empty means cross-origin browser requests are not allowed. */
  readonly corsOrigins: ReadonlyArray<string>
  /** Largest accepted request body, in bytes. */
  readonly maxBodyBytes: number
  /**
   * The four rate-limit buckets of the spec and the public documents' bucket, each
   * `RATE_LIMIT_<NAME>_MAX` requests per `_WINDOW` seconds.
   */
  readonly rateLimits: RateLimits
  /** `TRUST_PROXY`: take the client address from `X-Forwarded-For` (only behind a proxy that sets it). */
  readonly trustProxy: boolean
  /** The AI providers beyond LM Studio and OpenAI, the routing strategy and the request budget. */
  readonly ai: AiConfig.AiConfigShape
}

export interface RateLimit {
  readonly max: number
  readonly windowMs: number
}

export interface RateLimits {
  readonly enabled: boolean
  readonly perKey: RateLimit
  readonly perIp: RateLimit
  readonly ai: RateLimit
  readonly unauthenticated: RateLimit
  /** Per IP, for the public documents (`/openapi.json`, `/docs`, `/ai/status`); the health probes are never limited. */
  readonly publicDocuments: RateLimit
}

function rateLimit(name: string, max: number, windowSeconds: number): Config.Config<RateLimit> {
  const whole = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
  return Config.all({
    max: Config.schema(whole, `RATE_LIMIT_${name}_MAX`).pipe(Config.withDefault(max)),
    windowMs: Config.schema(whole, `RATE_LIMIT_${name}_WINDOW`).pipe(
      Config.withDefault(windowSeconds),
      Config.map((seconds) => seconds * 1000)
    )
  })
}

export const config: Config.Config<GatewayConfigShape> = Config.all({
  nodeEnv: Config.Literals(["development", "production", "test"], "NODE_ENV").pipe(
    Config.withDefault("development" as const)
  ),
  // 0 asks the system for a free port (tests, embedding); otherwise a TCP port.
  port: Config.schema(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 })), "PORT").pipe(
    Config.withDefault(3000)
  ),
  adminKey: Config.option(Config.Redacted("API_KEY_ADMIN")),
  readKey: Config.option(Config.Redacted("API_KEY_READ")),
  keyHashSecret: Config.option(Config.Redacted("KEY_HASH_SECRET")),
  githubToken: Config.option(Config.Redacted("GITHUB_TOKEN")),
  lmstudioEnabled: Config.Boolean("LMSTUDIO_ENABLED").pipe(Config.withDefault(false)),
  lmstudioBaseUrl: Config.String("LMSTUDIO_BASE_URL").pipe(Config.withDefault("http://localhost:1234")),
  openaiApiKey: Config.option(Config.Redacted("OPENAI_API_KEY")),
  openaiEnabled: Config.Boolean("OPENAI_ENABLED").pipe(Config.withDefault(false)),
  cacheTtlMs: Config.Int("CACHE_TTL").pipe(Config.withDefault(300_000)),
  logLevel: Config.Literals(["trace", "debug", "info", "warn", "error", "fatal"], "LOG_LEVEL").pipe(
    Config.withDefault("info" as const)
  ),
  logFormat: Config.Literals(["json", "pretty"], "LOG_FORMAT").pipe(Config.withDefault("json" as const)),
  launcherProjectId: Config.String("LAUNCHER_PROJECT_ID").pipe(Config.withDefault("lunarbit-launcher")),
  launcherChannel: Config.String("LAUNCHER_CHANNEL").pipe(Config.withDefault("stable")),
  docsUrl: Config.String("DOCS_URL").pipe(Config.withDefault("https://docs.lunarbit.dev/api-errors")),
  corsOrigins: Config.Array(Schema.NonEmptyString, "CORS_ORIGINS").pipe(
    Config.withDefault([] as ReadonlyArray<string>)
  ),
  maxBodyBytes: Config.Int("MAX_BODY_BYTES").pipe(Config.withDefault(1_048_576)),
  rateLimits: Config.all({
    enabled: Config.Boolean("RATE_LIMIT_ENABLED").pipe(Config.withDefault(true)),
    perKey: rateLimit("KEY", 1000, 900),
    perIp: rateLimit("IP", 1000, 900),
    ai: rateLimit("AI", 100, 3600),
    unauthenticated: rateLimit("UNAUTHENTICATED", 60, 3600),
    publicDocuments: rateLimit("PUBLIC", 600, 60)
  }),
  trustProxy: Config.Boolean("TRUST_PROXY").pipe(Config.withDefault(false)),
  ai: AiConfig.config
})

const positiveInt = (name: string, fallback: number) =>
  Config.schema(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)), name).pipe(Config.withDefault(fallback))

/**
 * Settings of the GitHub release source, read by `GitHubReleaseSource.layerConfig` only (the token
 * is `GITHUB_TOKEN` above). Kept apart from `GatewayConfigShape` so hosts without GitHub need none.
 */
export interface GitHubConfigShape {
  /** `GITHUB_API_URL`: the REST API root; GitHub Enterprise Server's is `https://HOST/api/v3`. */
  readonly apiUrl: string
  /** `GITHUB_SYNC_INTERVAL`, in seconds: how often every repository is synchronised in the background. */
  readonly syncIntervalSeconds: number
  /** `GITHUB_PROJECTS`: a JSON array of the projects backed by repositories (docs/github-sources.md). */
  readonly projects: ReadonlyArray<GitHubProjects.ProjectConfig>
}

export const github: Config.Config<GitHubConfigShape> = Config.all({
  apiUrl: Config.String("GITHUB_API_URL").pipe(Config.withDefault("https://api.github.com")),
  syncIntervalSeconds: positiveInt("GITHUB_SYNC_INTERVAL", 300),
  projects: Config.schema(Schema.fromJsonString(GitHubProjects.ProjectsConfig), "GITHUB_PROJECTS").pipe(
    Config.withDefault([] as ReadonlyArray<GitHubProjects.ProjectConfig>)
  )
})

/** Settings of background build verification (`BuildVerification.layerConfig`). */
export interface BuildVerificationConfigShape {
  /** `BUILD_VERIFICATION`: download each build and compare its checksums. */
  readonly enabled: boolean
  /** `BUILD_VERIFICATION_CONCURRENCY`: artifacts downloaded at the same time. */
  readonly concurrency: number
  /** `BUILD_VERIFICATION_TIMEOUT`, in seconds: the longest one artifact's download may take. */
  readonly timeoutSeconds: number
}

export const buildVerification: Config.Config<BuildVerificationConfigShape> = Config.all({
  enabled: Config.Boolean("BUILD_VERIFICATION").pipe(Config.withDefault(true)),
  concurrency: positiveInt("BUILD_VERIFICATION_CONCURRENCY", 2),
  timeoutSeconds: positiveInt("BUILD_VERIFICATION_TIMEOUT", 900)
})

export class GatewayConfig extends Context.Service<GatewayConfig, GatewayConfigShape>()(
  "@lunarbit/gateway-core/GatewayConfig"
) {
  /** Reads the configuration from the current `ConfigProvider`. */
  static readonly layer = Layer.effect(
    GatewayConfig,
    Effect.gen(function* () {
      return yield* config
    })
  )

  /** A fixed configuration, for tests and embedders who assemble it themselves. */
  static readonly layerWith = (shape: GatewayConfigShape) => Layer.succeed(GatewayConfig, shape)
}
