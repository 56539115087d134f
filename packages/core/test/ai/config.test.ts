import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  anthropicMessage,
  anthropicModels,
  anthropicStream,
  json,
  openAiCompletion,
  sse,
  startUpstream,
  type Upstream
} from "./fakes.ts"
import { postJson, readSse, type ServedGateway, serveGateway } from "./support.ts"

/** Providers built from the configuration alone: Azure OpenAI and Anthropic, in the configured order. */
describe("AI providers from the configuration", () => {
  let azure: Upstream
  let anthropic: Upstream
  let gateway: ServedGateway

  beforeAll(async () => {
    azure = await startUpstream()
    anthropic = await startUpstream()
    azure.on("/openai/models", json({ object: "list", data: [] }))
    azure.on("/openai/deployments/gpt4o-prod/chat/completions", openAiCompletion("from azure", { model: "gpt-4o" }))
    anthropic.on("/v1/models", anthropicModels("claude-test"))
    gateway = await serveGateway({
      AZURE_OPENAI_API_KEY: "azure-secret",
      AZURE_OPENAI_ENDPOINT: azure.url,
      AZURE_OPENAI_DEPLOYMENTS: "gpt4o-prod, mini",
      ANTHROPIC_API_KEY: "sk-ant-secret",
      ANTHROPIC_BASE_URL: anthropic.url,
      ANTHROPIC_MODEL: "claude-test",
      AI_PROVIDER_PRIORITY: "anthropic,azure",
      AI_ROUTING_STRATEGY: "round-robin"
    })
  })

  afterAll(async () => {
    await gateway.close()
    await Promise.all([azure.close(), anthropic.close()])
  })

  it("lists them in the configured priority, with the configured strategy", async () => {
    const status = await (await fetch(gateway.url("/ai/status"))).json()
    expect(status.strategy).toBe("round-robin")
    expect(status.providers.map((p: { name: string; models: Array<string> }) => [p.name, p.models])).toEqual([
      ["anthropic", ["claude-test"]],
      ["azure", ["gpt4o-prod", "mini"]]
    ])
  })

  it("routes a deployment name to Azure and a Claude model to Anthropic", async () => {
    anthropic.on("/v1/messages", anthropicMessage("from claude"))
    const toAzure = await (
      await postJson(gateway.url("/ai/chat"), { messages: [{ role: "user", content: "hi" }], model: "gpt4o-prod" })
    ).json()
    expect(toAzure).toMatchObject({ response: "from azure", model: "gpt-4o", tokens_used: 18 })
    const toClaude = await (
      await postJson(gateway.url("/ai/chat"), { messages: [{ role: "user", content: "hi" }], model: "claude-test" })
    ).json()
    expect(toClaude).toMatchObject({ response: "from claude", tokens_used: 34 })
  })

  it("streams from Anthropic with its usage in the final event", async () => {
    anthropic.on("/v1/messages", sse(anthropicStream(["Bon", "jour"])))
    const events = await readSse(
      await postJson(gateway.url("/ai/chat"), {
        messages: [{ role: "user", content: "hi" }],
        model: "claude-test",
        stream: true
      })
    )
    expect(events.map((e) => e.event)).toEqual(["delta", "delta", "done"])
    expect(JSON.parse(events[2]!.data)).toMatchObject({ model: "claude-test", tokens_used: 40 })
  })
})
