import { Effect, Layer, Redacted } from "effect"
import * as AIProvider from "../ports/AIProvider.ts"
import type { ProviderHttpShape } from "../ports/ProviderHttp.ts"
import * as OpenAiCompatible from "./OpenAiCompatibleProvider.ts"
import * as OpenAiPassThrough from "./OpenAiPassThrough.ts"
import { onFirstUse } from "./SdkClient.ts"

/** An Azure OpenAI resource and its deployments. */
export interface Options {
  readonly name?: string | undefined
  /** The resource endpoint, e.g. `https://my-resource.openai.azure.com`. */
  readonly endpoint: string
  readonly apiKey: Redacted.Redacted<string>
  /** Deployment names, which Azure uses in place of model names; the first is the default. */
  readonly deployments: ReadonlyArray<string>
  readonly apiVersion: string
  readonly fetch?: typeof globalThis.fetch | undefined
  /** The HTTP client `/v1/chat/completions` is forwarded with; `fetch` when absent. */
  readonly http?: ProviderHttpShape | undefined
}

/**
 * Azure OpenAI through the SDK's Azure client: the OpenAI wire, addressed by deployment. The models
 * it serves are its configured deployments; the health probe lists the resource's models.
 */
export const make = (options: Options): AIProvider.AIProviderShape => {
  const endpoint = options.endpoint.replace(/\/+$/, "")
  const client = onFirstUse(async () => {
    const { AzureOpenAI } = await import("openai")
    return new AzureOpenAI({
      apiKey: Redacted.value(options.apiKey),
      // Passing the base URL rather than `endpoint` keeps the SDK from reading OPENAI_BASE_URL.
      baseURL: `${endpoint}/openai`,
      apiVersion: options.apiVersion,
      maxRetries: 0,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch })
    })
  })
  const wire = OpenAiCompatible.minimal(client, {
    name: options.name ?? "azure",
    defaultModel: options.deployments[0],
    maxTokensField: "max_completion_tokens",
    models: Effect.succeed(options.deployments)
  })
  const apiVersion = encodeURIComponent(options.apiVersion)
  // Azure addresses the deployment in the path; the body's model names it too, as the client wrote it.
  const target: OpenAiPassThrough.Target = {
    http: OpenAiCompatible.httpOf(options),
    url: (operation, deployment) =>
      `${endpoint}/openai/deployments/${encodeURIComponent(deployment)}/${operation}?api-version=${apiVersion}`,
    headers: { "api-key": Redacted.value(options.apiKey) }
  }
  const forwarded = OpenAiPassThrough.wire(target)
  return AIProvider.make({
    ...wire,
    health: Effect.asVoid(OpenAiPassThrough.listModels(target, `${endpoint}/openai/models?api-version=${apiVersion}`)),
    completions: forwarded,
    embeddings: forwarded.embeddings
  })
}

/** The provider as the `AIProvider` service, for code that uses a single one. */
export const layer = (options: Options): Layer.Layer<AIProvider.AIProvider> =>
  Layer.succeed(AIProvider.AIProvider, make(options))
