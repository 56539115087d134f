import OpenAI from "openai"
import { describe, expect, it } from "vitest"
import * as AIProvider from "../../src/ai/ports/AIProvider.ts"
import * as ModelRouter from "../../src/ai/services/ModelRouter.ts"
import { json, openAiError, openAiModels, openAiStream, type SseEvent, sse, startUpstream } from "./fakes.ts"
import { aiKey, openAiEnv, sdkSuite, serveGateway, tokensAdded, tokensOf } from "./support.ts"

/** Every request field OpenAI documents, and one it has not invented yet. */
const everyField = {
  model: "gpt-test",
  messages: [
    { role: "developer", content: "Answer in JSON." },
    {
      role: "user",
      content: [
        { type: "text", text: "Weather in Paris?" },
        { type: "image_url", image_url: { url: "https://example.com/sky.png", detail: "low" } }
      ]
    },
    {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }]
    },
    { role: "tool", tool_call_id: "call_1", content: '{"celsius":21}' }
  ],
  tools: [
    {
      type: "function",
      function: {
        name: "weather",
        description: "The weather in a city",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        strict: true
      }
    }
  ],
  tool_choice: { type: "function", function: { name: "weather" } },
  parallel_tool_calls: false,
  response_format: {
    type: "json_schema",
    json_schema: { name: "weather", schema: { type: "object", properties: { celsius: { type: "number" } } } }
  },
  seed: 7,
  stop: ["END"],
  n: 2,
  logprobs: true,
  top_logprobs: 3,
  presence_penalty: 0.5,
  frequency_penalty: 0.25,
  logit_bias: { "50256": -100 },
  user: "user-1",
  max_completion_tokens: 99,
  reasoning_effort: "low",
  metadata: { app: "trackly" },
  temperature: 0.3,
  top_p: 0.9,
  future_field: { nested: [1, "two", null] }
}

/** An answer with every response field: tool calls, a refusal, logprobs, usage details, and an unknown one. */
const fullAnswer = {
  id: "chatcmpl-upstream",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "gpt-test-2026",
  system_fingerprint: "fp_abc",
  service_tier: "default",
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        content: null,
        refusal: null,
        annotations: [],
        tool_calls: [{ id: "call_2", type: "function", function: { name: "weather", arguments: '{"city":"Lyon"}' } }]
      },
      logprobs: { content: [{ token: "x", logprob: -0.1, bytes: [120], top_logprobs: [] }], refusal: null },
      finish_reason: "tool_calls"
    },
    {
      index: 1,
      message: { role: "assistant", content: null, refusal: "I can't help with that." },
      logprobs: null,
      finish_reason: "stop"
    }
  ],
  usage: {
    prompt_tokens: 40,
    completion_tokens: 12,
    total_tokens: 52,
    prompt_tokens_details: { cached_tokens: 8, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 4, audio_tokens: 0 }
  },
  future_answer_field: true
}

const chunk = (choices: ReadonlyArray<unknown>, usage: unknown = null) => ({
  id: "chatcmpl-upstream",
  object: "chat.completion.chunk",
  created: 1_700_000_000,
  model: "gpt-test",
  system_fingerprint: "fp_abc",
  choices,
  usage
})

/** A streamed tool call as OpenAI sends it with `include_usage`: every chunk has `usage`, the last one set. */
const toolCallChunks = [
  chunk([{ index: 0, delta: { role: "assistant", content: null }, logprobs: null, finish_reason: null }]),
  chunk([
    {
      index: 0,
      delta: {
        tool_calls: [{ index: 0, id: "call_9", type: "function", function: { name: "weather", arguments: "" } }]
      },
      logprobs: null,
      finish_reason: null
    }
  ]),
  ...['{"ci', 'ty":"Os', 'lo"}'].map((piece) =>
    chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] }, finish_reason: null }])
  ),
  chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: "tool_calls" }]),
  chunk([], { prompt_tokens: 30, completion_tokens: 9, total_tokens: 39 })
]
const toolCallStream: Array<SseEvent> = [...toolCallChunks.map((data) => ({ data })), { data: "[DONE]" }]
const wire = (events: ReadonlyArray<SseEvent>) =>
  events
    .map((event) => `data: ${typeof event.data === "string" ? event.data : JSON.stringify(event.data)}\n\n`)
    .join("")

describe("/v1 fidelity with an OpenAI-compatible upstream, driven by the openai SDK", () => {
  const suite = sdkSuite(openAiEnv, (upstream) => upstream.on("/v1/models", openAiModels("gpt-test", "text-embed")))

  const sent = (path: string) => suite.upstream.received.find((request) => request.path === path)!

  it("forwards every request field unchanged and returns every response field unchanged", async () => {
    suite.upstream.on("/v1/chat/completions", json(fullAnswer))
    const response = await suite.client.chat.completions.create(everyField as any).asResponse()
    expect(await response.json()).toEqual(fullAnswer)
    expect(sent("/v1/chat/completions").body).toEqual(everyField)
  })

  it("streams a tool call byte for byte, without the usage chunk the client did not ask for", async () => {
    suite.upstream.on("/v1/chat/completions", sse(toolCallStream))
    const before = await tokensOf(suite.gateway)
    const request = { ...everyField, n: 1, stream: true as const }
    const stream = await suite.client.chat.completions.create(request as any)
    const received: Array<unknown> = []
    for await (const part of stream as unknown as AsyncIterable<unknown>) received.push(part)
    // Exactly what OpenAI sends without include_usage: no usage chunk, no `usage: null` on the others.
    expect(received).toEqual(toolCallChunks.slice(0, -1).map(({ usage: _, ...rest }) => rest))
    const args = received.flatMap((part: any) => part.choices[0]?.delta.tool_calls?.[0]?.function.arguments ?? [])
    expect(args.join("")).toBe('{"city":"Oslo"}')
    // The gateway asked for usage to count the tokens; nothing else changed.
    expect(sent("/v1/chat/completions").body).toEqual({ ...request, stream_options: { include_usage: true } })
    expect(await tokensAdded(suite.gateway, before)).toBe(39)
  })

  it("passes a stream through exactly as the upstream wrote it when the client asked for usage", async () => {
    suite.upstream.on("/v1/chat/completions", sse(toolCallStream))
    const request = { model: "gpt-test", messages: [{ role: "user", content: "Hi" }], stream: true }
    const response = await suite.client.chat.completions
      .create({ ...request, stream: true, stream_options: { include_usage: true } } as any)
      .asResponse()
    expect(await response.text()).toBe(wire(toolCallStream))
  })

  it("ends a stream cut mid-way with the typed error and still adds the tokens it cost", async () => {
    suite.upstream.on(
      "/v1/chat/completions",
      sse(openAiStream(["Half", " an", " answer"]).slice(0, 3), { end: "drop" })
    )
    const before = await tokensOf(suite.gateway)
    const stream = await suite.client.chat.completions.create({
      model: "gpt-test",
      messages: [{ role: "user", content: "Tell me a long story" }],
      stream: true
    })
    let text = ""
    const failure = await (async () => {
      for await (const part of stream) text += part.choices[0]?.delta.content ?? ""
    })().then(
      () => undefined,
      (error: unknown) => error as InstanceType<typeof OpenAI.APIError>
    )
    expect(text).toBe("Half an")
    expect(failure?.code).toBe("AI_STREAM_INTERRUPTED")
    // Counted locally: the prompt and the pieces that reached the client.
    expect(await tokensAdded(suite.gateway, before)).toBeGreaterThan(5)
  })

  it("answers a field the host refuses with a 400 and tries no other attempt", async () => {
    suite.upstream.on(
      "/v1/chat/completions",
      openAiError(400, "Unrecognized request argument supplied: future_field", "invalid_request_error")
    )
    const error = await suite.client.chat.completions.create(everyField as any).then(
      () => undefined,
      (e: unknown) => e as InstanceType<typeof OpenAI.APIError>
    )
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error?.code).toBe("AI_REQUEST_REJECTED")
    expect(suite.upstream.received.filter((r) => r.path === "/v1/chat/completions")).toHaveLength(1)
  })

  it("serves embeddings and single models", async () => {
    const answer = {
      object: "list",
      data: [{ object: "embedding", index: 0, embedding: [0.25, -0.5] }],
      model: "text-embed",
      usage: { prompt_tokens: 3, total_tokens: 3 }
    }
    suite.upstream.on("/v1/embeddings", json(answer))
    const request = { model: "text-embed", input: "hello", encoding_format: "float" as const, dimensions: 2 }
    const embeddings = await suite.client.embeddings.create(request)
    expect(embeddings.data[0]!.embedding).toEqual([0.25, -0.5])
    expect(sent("/v1/embeddings").body).toEqual(request)
    expect(await suite.client.models.retrieve("gpt-test")).toMatchObject({ id: "gpt-test", owned_by: "openai" })
    await expect(suite.client.models.retrieve("no-such-model")).rejects.toBeInstanceOf(OpenAI.NotFoundError)
  })
})

describe("/v1 failover and Azure", () => {
  it("fails over before the first byte of a stream, to the next provider", async () => {
    const failing = await startUpstream()
    const working = await startUpstream()
    failing.on("/v1/models", openAiModels("gpt-test"))
    failing.on("/v1/chat/completions", openAiError(503, "Overloaded", "server_error"))
    working.on("/v1/models", openAiModels("gpt-test"))
    working.on("/v1/chat/completions", sse(toolCallStream))
    const gateway = await serveGateway({
      LMSTUDIO_ENABLED: "true",
      LMSTUDIO_BASE_URL: failing.url,
      OPENAI_ENABLED: "true",
      OPENAI_BASE_URL: `${working.url}/v1`
    })
    try {
      const client = new OpenAI({ apiKey: aiKey, baseURL: gateway.url("/v1"), maxRetries: 0 })
      const response = await client.chat.completions
        .create({
          model: "gpt-test",
          messages: [{ role: "user", content: "Hi" }],
          stream: true,
          stream_options: { include_usage: true }
        })
        .asResponse()
      expect(await response.text()).toBe(wire(toolCallStream))
      expect(failing.received.filter((r) => r.path === "/v1/chat/completions")).toHaveLength(1)
    } finally {
      await gateway.close()
      await Promise.all([failing.close(), working.close()])
    }
  })

  it("forwards the body to an Azure deployment with its key and API version", async () => {
    const azure = await startUpstream()
    azure.on("/openai/models", json({ object: "list", data: [] }))
    azure.on("/openai/deployments/gpt4o-prod/chat/completions", json(fullAnswer))
    const gateway = await serveGateway({
      AZURE_OPENAI_API_KEY: "azure-secret",
      AZURE_OPENAI_ENDPOINT: azure.url,
      AZURE_OPENAI_DEPLOYMENTS: "gpt4o-prod"
    })
    try {
      const client = new OpenAI({ apiKey: aiKey, baseURL: gateway.url("/v1"), maxRetries: 0 })
      const request = { ...everyField, model: "gpt4o-prod" }
      const response = await client.chat.completions.create(request as any).asResponse()
      expect(await response.json()).toEqual(fullAnswer)
      const sent = azure.received.find((r) => r.path.startsWith("/openai/deployments/"))!
      expect(sent.path).toMatch(/^\/openai\/deployments\/gpt4o-prod\/chat\/completions\?api-version=/)
      expect(sent.headers["api-key"]).toBe("azure-secret")
      expect(sent.body).toEqual(request)
    } finally {
      await gateway.close()
      await azure.close()
    }
  })
})

describe("/v1 on a custom provider, which implements only the port", () => {
  const custom = AIProvider.fromPromises({
    name: "custom",
    defaultModel: "house-model",
    chatCompletion: async (request) => ({
      text: `You said: ${request.messages.at(-1)?.content}`,
      model: request.model,
      finishReason: "stop"
    }),
    async *streamCompletion() {
      yield "Hel"
      yield "lo"
    },
    getModels: async () => ["house-model"]
  })

  it("answers in OpenAI's format, and refuses with a 400 the fields the port cannot carry", async () => {
    const gateway = await serveGateway({}, ModelRouter.registerProviders(custom))
    try {
      const client = new OpenAI({ apiKey: aiKey, baseURL: gateway.url("/v1"), maxRetries: 0 })
      const messages = [{ role: "user" as const, content: "hi" }]
      const completion = await client.chat.completions.create({ model: "house-model", messages, temperature: 0.2 })
      expect(completion.choices[0]!.message.content).toBe("You said: hi")
      expect(completion.usage!.total_tokens).toBeGreaterThan(0)
      const stream = await client.chat.completions.create({ model: "house-model", messages, stream: true })
      const chunks: Array<OpenAI.ChatCompletionChunk> = []
      for await (const chunk of stream) chunks.push(chunk)
      expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe("Hello")
      // The usage chunk was not asked for, so the client does not get it.
      expect(chunks.every((chunk) => chunk.choices.length === 1 && chunk.usage === undefined)).toBe(true)
      const refused = await client.chat.completions
        .create({ model: "house-model", messages, tools: [{ type: "function", function: { name: "f" } }] })
        .then(
          () => undefined,
          (error: unknown) => error as InstanceType<typeof OpenAI.APIError>
        )
      expect(refused?.status).toBe(400)
      expect(refused?.message).toContain("'tools'")
    } finally {
      await gateway.close()
    }
  })
})
