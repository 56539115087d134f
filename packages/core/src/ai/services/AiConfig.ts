import { Config, type Option, type Redacted, Schema } from "effect"
import { type Strategy, strategies } from "./AiRouting.ts"

/**
 * The AI settings of LunarCore LC-CFG beyond the spec's `LMSTUDIO_*` and `OPENAI_*` entries: the
 * Anthropic and Azure OpenAI providers, the routing strategy, and each request's budget.
 */
export interface AiConfigShape {
  /** `OPENAI_BASE_URL`: OpenAI, or any host that speaks its API. */
  readonly openaiBaseUrl: string
  /** `OPENAI_MODEL`: the OpenAI model used when a request names none. */
  readonly openaiModel: string
  /** `LMSTUDIO_MODEL`: LM Studio's default model; otherwise the first model it lists. */
  readonly lmstudioModel: Option.Option<string>
  readonly anthropicApiKey: Option.Option<Redacted.Redacted<string>>
  /** `ANTHROPIC_ENABLED` (default true): Anthropic is used when this holds and a key is set. */
  readonly anthropicEnabled: boolean
  readonly anthropicBaseUrl: string
  readonly anthropicModel: string
  readonly azureApiKey: Option.Option<Redacted.Redacted<string>>
  /** `AZURE_OPENAI_ENDPOINT`, e.g. `https://my-resource.openai.azure.com`. */
  readonly azureEndpoint: Option.Option<string>
  /** `AZURE_OPENAI_DEPLOYMENTS`: comma-separated deployment names; the first is the default. */
  readonly azureDeployments: ReadonlyArray<string>
  readonly azureApiVersion: string
  /** `AI_ROUTING_STRATEGY`: priority, round-robin, least-loaded or fastest. */
  readonly strategy: Strategy
  /** `AI_PROVIDER_PRIORITY`: provider names in priority order; unnamed providers follow. */
  readonly providerPriority: ReadonlyArray<string>
  /** `AI_MAX_ATTEMPTS`: upstream calls per request, retries and fallbacks together. */
  readonly maxAttempts: number
  /** `AI_DEADLINE_MS`: time for a request to get its answer (its first token, for streams). */
  readonly deadlineMs: number
  /** `AI_TIMEOUT_MS`: one non-streamed upstream call. */
  readonly attemptTimeoutMs: number
  /** `AI_FIRST_TOKEN_TIMEOUT_MS`: a stream's first token, after which the router fails over. */
  readonly firstTokenTimeoutMs: number
  /** `AI_IDLE_TIMEOUT_MS`: the longest silence inside a stream that has started. */
  readonly idleTimeoutMs: number
  /** `AI_CIRCUIT_FAILURES`: consecutive faults that open a provider's circuit. */
  readonly circuitFailures: number
  /** `AI_CIRCUIT_COOLDOWN_MS`: how long an open circuit refuses requests. */
  readonly circuitCooldownMs: number
  /** `AI_HEALTH_INTERVAL_MS`: how long health probes and model lists are cached. */
  readonly healthIntervalMs: number
}

const positive = (name: string, value: number) =>
  Config.schema(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)), name).pipe(Config.withDefault(value))

const list = (name: string) =>
  Config.String(name).pipe(
    Config.map((text) =>
      text
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "")
    ),
    Config.withDefault([] as ReadonlyArray<string>)
  )

/** The AI entries of LC-CFG, read from the environment variables named in `AiConfigShape`. */
export const config: Config.Config<AiConfigShape> = Config.all({
  openaiBaseUrl: Config.String("OPENAI_BASE_URL").pipe(Config.withDefault("https://api.openai.com/v1")),
  openaiModel: Config.String("OPENAI_MODEL").pipe(Config.withDefault("gpt-4o-mini")),
  lmstudioModel: Config.option(Config.String("LMSTUDIO_MODEL")),
  anthropicApiKey: Config.option(Config.Redacted("ANTHROPIC_API_KEY")),
  anthropicEnabled: Config.Boolean("ANTHROPIC_ENABLED").pipe(Config.withDefault(true)),
  anthropicBaseUrl: Config.String("ANTHROPIC_BASE_URL").pipe(Config.withDefault("https://api.anthropic.com")),
  anthropicModel: Config.String("ANTHROPIC_MODEL").pipe(Config.withDefault("claude-sonnet-4-5")),
  azureApiKey: Config.option(Config.Redacted("AZURE_OPENAI_API_KEY")),
  azureEndpoint: Config.option(Config.String("AZURE_OPENAI_ENDPOINT")),
  azureDeployments: list("AZURE_OPENAI_DEPLOYMENTS"),
  azureApiVersion: Config.String("AZURE_OPENAI_API_VERSION").pipe(Config.withDefault("2024-10-21")),
  strategy: Config.Literals(strategies, "AI_ROUTING_STRATEGY").pipe(Config.withDefault("priority" as const)),
  providerPriority: list("AI_PROVIDER_PRIORITY"),
  maxAttempts: positive("AI_MAX_ATTEMPTS", 3),
  deadlineMs: positive("AI_DEADLINE_MS", 60_000),
  attemptTimeoutMs: positive("AI_TIMEOUT_MS", 60_000),
  firstTokenTimeoutMs: positive("AI_FIRST_TOKEN_TIMEOUT_MS", 15_000),
  idleTimeoutMs: positive("AI_IDLE_TIMEOUT_MS", 30_000),
  circuitFailures: positive("AI_CIRCUIT_FAILURES", 5),
  circuitCooldownMs: positive("AI_CIRCUIT_COOLDOWN_MS", 30_000),
  healthIntervalMs: positive("AI_HEALTH_INTERVAL_MS", 30_000)
})
