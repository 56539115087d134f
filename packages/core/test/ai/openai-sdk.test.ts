import OpenAI from "openai"
import { describe, expect, it } from "vitest"
import { firstEvents, openAiCompletion, openAiError, openAiModels, openAiStream, sse } from "./fakes.ts"
import { aiKey, openAiEnv, readerKey, sdkSuite, serveGateway } from "./support.ts"

/** The official `openai` SDK with the gateway as its `baseURL` and a gateway key as its API key. */
describe("OpenAI-compatible surface, driven by the openai SDK", () => {
  const suite = sdkSuite(openAiEnv, (upstream) => upstream.on("/v1/models", openAiModels("gpt-test", "gpt-mini")))

  const messages = [
    { role: "developer" as const, content: "Be brief." },
    { role: "user" as const, content: [{ type: "text" as const, text: "Hello" }] }
  ]

  it("creates a completion", async () => {
    suite.upstream.on("/v1/chat/completions", openAiCompletion("Hi!", { model: "gpt-test" }))
    const completion = await suite.client.chat.completions.create({ model: "gpt-test", messages, max_tokens: 50 })
    expect(completion.object).toBe("chat.completion")
    expect(completion.choices[0]!.message.content).toBe("Hi!")
    expect(completion.choices[0]!.finish_reason).toBe("stop")
    expect(completion.usage).toEqual({ prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 })
    const sent = suite.upstream.received.find((r) => r.path === "/v1/chat/completions")!
    // The body goes through as sent; the upstream gets the gateway's key, never the client's.
    expect(sent.body).toEqual({ model: "gpt-test", messages, max_tokens: 50 })
    expect(sent.headers.authorization).toBe("Bearer sk-upstream-secret")
  })

  it("streams a completion with usage when asked", async () => {
    suite.upstream.on("/v1/chat/completions", sse(openAiStream(["Hel", "lo"])))
    const stream = await suite.client.chat.completions.create({
      model: "gpt-test",
      messages,
      stream: true,
      stream_options: { include_usage: true }
    })
    let text = ""
    let finish: string | null = null
    let usage: OpenAI.CompletionUsage | undefined
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ""
      finish = chunk.choices[0]?.finish_reason ?? finish
      if (chunk.usage) usage = chunk.usage
    }
    expect(text).toBe("Hello")
    expect(finish).toBe("stop")
    expect(usage).toEqual({ prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 })
  })

  it("lists the models", async () => {
    const models = []
    for await (const model of suite.client.models.list()) models.push(model)
    expect(models.map((m) => [m.id, m.owned_by])).toEqual([
      ["gpt-test", "openai"],
      ["gpt-mini", "openai"]
    ])
  })

  it("surfaces the gateway's errors as the SDK's typed errors, with code and request id", async () => {
    const error = await suite.client.chat.completions.create({ model: "no-such-model", messages }).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    const apiError = error as InstanceType<typeof OpenAI.NotFoundError>
    expect(apiError.status).toBe(404)
    expect(apiError.code).toBe("MODEL_NOT_AVAILABLE")
    expect(apiError.message).toContain("no-such-model")
    expect(apiError.requestID).toMatch(/^req_/)
  })

  it("surfaces a missing permission as PermissionDeniedError and a bad key as AuthenticationError", async () => {
    const reader = new OpenAI({ apiKey: readerKey, baseURL: suite.gateway.url("/v1"), maxRetries: 0 })
    await expect(reader.chat.completions.create({ model: "gpt-test", messages })).rejects.toBeInstanceOf(
      OpenAI.PermissionDeniedError
    )
    const stranger = new OpenAI({ apiKey: "sk-not-a-gateway-key", baseURL: suite.gateway.url("/v1"), maxRetries: 0 })
    await expect(stranger.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError)
  })

  it("tells the SDK to wait when the upstream rate-limits, and cools that provider down", async () => {
    suite.upstream.on(
      "/v1/chat/completions",
      openAiError(429, "Rate limit reached", "requests", { "retry-after": "7" })
    )
    const error = await suite.client.chat.completions.create({ model: "gpt-test", messages }).then(
      () => undefined,
      (e: unknown) => e as InstanceType<typeof OpenAI.APIError>
    )
    expect(error?.status).toBe(503)
    expect(error?.code).toBe("AI_UNAVAILABLE")
    // The SDK honours Retry-After on its own retries: the 503 carries it, as 429s do.
    expect(Number(error?.headers?.get("retry-after"))).toBeGreaterThanOrEqual(6)
    // The provider is cooling down: the next request is answered without calling it.
    const calls = suite.upstream.received.filter((r) => r.path === "/v1/chat/completions").length
    await expect(suite.client.chat.completions.create({ model: "gpt-test", messages })).rejects.toMatchObject({
      status: 503
    })
    expect(suite.upstream.received.filter((r) => r.path === "/v1/chat/completions").length).toBe(calls)
  })

  it("makes a stream that fails midway throw in the SDK instead of ending short", async () => {
    suite.upstream.on("/v1/chat/completions", sse(firstEvents(openAiStream(["partial"]), 2), { end: "drop" }))
    const other = await serveGateway({
      OPENAI_ENABLED: "true",
      OPENAI_BASE_URL: `${suite.upstream.url}/v1`
    })
    try {
      const sdk = new OpenAI({ apiKey: aiKey, baseURL: other.url("/v1"), maxRetries: 0 })
      const stream = await sdk.chat.completions.create({ model: "gpt-test", messages, stream: true })
      let text = ""
      const failure = await (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ""
      })().then(
        () => undefined,
        (e: unknown) => e as InstanceType<typeof OpenAI.APIError>
      )
      expect(text).toBe("partial")
      expect(failure).toBeInstanceOf(OpenAI.APIError)
      expect(failure?.code).toBe("AI_STREAM_INTERRUPTED")
    } finally {
      await other.close()
    }
  })
})
