import { Option } from "effect"
import type { GatewayConfigShape } from "../../config/GatewayConfig.ts"
import type { AIProviderShape } from "../ports/AIProvider.ts"
import type { ProviderHttpShape } from "../ports/ProviderHttp.ts"
import * as AnthropicProvider from "../providers/AnthropicProvider.ts"
import * as AzureOpenAiProvider from "../providers/AzureOpenAiProvider.ts"
import * as OpenAiCompatibleProvider from "../providers/OpenAiCompatibleProvider.ts"
import type { Settings } from "./ModelRouter.ts"

// LM Studio's documented base URL is the server root; its OpenAI-compatible API lives under /v1.
const withV1 = (url: string) => {
  const trimmed = url.replace(/\/+$/, "")
  return trimmed.endsWith("/v1") ? trimmed : `${trimmed}/v1`
}

/**
 * The providers the configuration enables, in `AI_PROVIDER_PRIORITY` order (by default LM Studio,
 * OpenAI, Azure OpenAI, Anthropic: local first, then by cost of a failover).
 */
export const fromConfig = (
  config: GatewayConfigShape,
  /** The `fetch` the SDKs use (the global one when absent) and the client requests are forwarded with. */
  transport: {
    readonly fetch?: typeof globalThis.fetch | undefined
    readonly http?: ProviderHttpShape | undefined
  } = {}
): ReadonlyArray<AIProviderShape> => {
  const ai = config.ai
  const providers: Array<AIProviderShape> = []
  if (config.lmstudioEnabled) {
    providers.push(
      OpenAiCompatibleProvider.make({
        name: "lmstudio",
        baseUrl: withV1(config.lmstudioBaseUrl),
        defaultModel: Option.getOrUndefined(ai.lmstudioModel),
        ...transport
      })
    )
  }
  // OPENAI_ENABLED turns it on; the key may be absent for OpenAI-compatible hosts without authentication.
  if (config.openaiEnabled) {
    providers.push(
      OpenAiCompatibleProvider.make({
        name: "openai",
        baseUrl: ai.openaiBaseUrl,
        apiKey: Option.getOrUndefined(config.openaiApiKey),
        defaultModel: ai.openaiModel,
        maxTokensField: ai.openaiBaseUrl.startsWith("https://api.openai.com") ? "max_completion_tokens" : "max_tokens",
        ...transport
      })
    )
  }
  if (Option.isSome(ai.azureApiKey) && Option.isSome(ai.azureEndpoint) && ai.azureDeployments.length > 0) {
    providers.push(
      AzureOpenAiProvider.make({
        endpoint: ai.azureEndpoint.value,
        apiKey: ai.azureApiKey.value,
        deployments: ai.azureDeployments,
        apiVersion: ai.azureApiVersion,
        ...transport
      })
    )
  }
  if (ai.anthropicEnabled && Option.isSome(ai.anthropicApiKey)) {
    providers.push(
      AnthropicProvider.make({
        apiKey: ai.anthropicApiKey.value,
        baseUrl: ai.anthropicBaseUrl,
        defaultModel: ai.anthropicModel,
        ...transport
      })
    )
  }
  return prioritize(providers, ai.providerPriority)
}

/** `providers` with those named in `priority` first, in that order; the others keep theirs. */
export const prioritize = (
  providers: ReadonlyArray<AIProviderShape>,
  priority: ReadonlyArray<string>
): ReadonlyArray<AIProviderShape> => {
  const rank = (provider: AIProviderShape) => {
    const index = priority.indexOf(provider.name)
    return index === -1 ? priority.length : index
  }
  return [...providers].sort((a, b) => rank(a) - rank(b))
}

/** The router's settings from the configuration. */
export const settingsFromConfig = (config: GatewayConfigShape): Settings => ({
  strategy: config.ai.strategy,
  maxAttempts: config.ai.maxAttempts,
  deadlineMs: config.ai.deadlineMs,
  attemptTimeoutMs: config.ai.attemptTimeoutMs,
  firstTokenTimeoutMs: config.ai.firstTokenTimeoutMs,
  idleTimeoutMs: config.ai.idleTimeoutMs,
  healthIntervalMs: config.ai.healthIntervalMs,
  probeTimeoutMs: 3_000,
  breaker: {
    failureThreshold: config.ai.circuitFailures,
    cooldownMs: config.ai.circuitCooldownMs,
    defaultRetryAfterMs: 1_000
  }
})
