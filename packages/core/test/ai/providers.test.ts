import { Effect, Exit, Redacted, Stream } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import * as AIProvider from "../../src/ai/ports/AIProvider.ts"
import * as AnthropicProvider from "../../src/ai/providers/AnthropicProvider.ts"
import * as AzureOpenAiProvider from "../../src/ai/providers/AzureOpenAiProvider.ts"
import * as OpenAiCompatibleProvider from "../../src/ai/providers/OpenAiCompatibleProvider.ts"
import {
  anthropicError,
  anthropicErrorEvent,
  anthropicMessage,
  anthropicModels,
  anthropicStream,
  firstEvents,
  json,
  openAiCompletion,
  openAiError,
  openAiModels,
  openAiStream,
  sse,
  startUpstream,
  type Upstream
} from "./fakes.ts"

/** Each adapter against a local server speaking its vendor's real wire format, through the port's `make`. */
const request: AIProvider.ChatRequest = {
  model: "m",
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hello" },
    { role: "user", content: "Again" }
  ],
  temperature: 1.5,
  maxTokens: 64
}

const limits: AIProvider.AttemptLimits = {
  timeout: "2 seconds",
  firstTokenTimeout: "300 millis",
  idleTimeout: "1 second"
}

const failureOf = async <A>(effect: Effect.Effect<A, AIProvider.ProviderFailure>) => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  return Effect.runPromise(Effect.flip(Effect.failCause(exit.cause))) as Promise<AIProvider.ProviderFailure>
}

const collect = (stream: Stream.Stream<AIProvider.StreamEvent, AIProvider.ProviderFailure>) =>
  Effect.runPromise(Stream.runCollect(stream)).then((events) => [...events])

let upstream: Upstream
beforeAll(async () => {
  upstream = await startUpstream()
})
afterAll(() => upstream.close())
beforeEach(() => {
  upstream.received.length = 0
})

describe("OpenAiCompatibleProvider", () => {
  const provider = () =>
    OpenAiCompatibleProvider.make({ name: "openai", baseUrl: `${upstream.url}/v1`, apiKey: Redacted.make("sk-x") })

  it("answers a completion with the provider's usage", async () => {
    upstream.on("/v1/chat/completions", openAiCompletion("Hi", { model: "m-2025" }))
    const completion = await Effect.runPromise(provider().chat(request, limits))
    expect(completion).toMatchObject({ text: "Hi", model: "m-2025", finishReason: "stop", usageCounted: false })
    expect(completion.usage).toEqual({ promptTokens: 11, completionTokens: 7, totalTokens: 18 })
    expect(upstream.received[0]!.body).toMatchObject({ model: "m", temperature: 1.5, max_tokens: 64 })
  })

  it("counts usage locally when the host reports none", async () => {
    upstream.on("/v1/chat/completions", openAiCompletion("Hi there", { usage: false }))
    const completion = await Effect.runPromise(provider().chat(request, limits))
    expect(completion.usageCounted).toBe(true)
    expect(completion.usage.completionTokens).toBe(2)
  })

  it("calls the upstream once per attempt: the SDK's own retries are off", async () => {
    upstream.on("/v1/chat/completions", openAiError(500, "boom", "server_error"))
    const failure = await failureOf(provider().chat(request, limits))
    expect(failure).toMatchObject({ provider: "openai", kind: "server", status: 500, message: "boom" })
    expect(upstream.received).toHaveLength(1)
  })

  it.each([
    [{ "retry-after": "7" }, 7000],
    [{ "retry-after-ms": "1500", "retry-after": "7" }, 1500],
    [{ "retry-after": new Date(Date.now() + 60_000).toUTCString() }, 60_000]
  ])("reads a 429's Retry-After %j", async (headers, expected) => {
    upstream.on("/v1/chat/completions", openAiError(429, "Rate limit reached", "requests", headers))
    const failure = await failureOf(provider().chat(request, limits))
    expect(failure.kind).toBe("rate_limited")
    // An HTTP date has whole seconds, and the clock moved since it was written.
    expect(failure.retryAfterMs).toBeGreaterThanOrEqual(expected - 3000)
    expect(failure.retryAfterMs).toBeLessThanOrEqual(expected)
  })

  it.each([
    [400, "rejected"],
    [401, "auth"],
    [404, "not_found"],
    [503, "server"]
  ])("classifies HTTP %i as %s", async (status, kind) => {
    upstream.on("/v1/chat/completions", openAiError(status, "no", "invalid_request_error"))
    expect((await failureOf(provider().chat(request, limits))).kind).toBe(kind)
  })

  it("classifies a refused connection", async () => {
    const closed = await startUpstream()
    await closed.close()
    const unreachable = OpenAiCompatibleProvider.make({ name: "gone", baseUrl: `${closed.url}/v1` })
    expect((await failureOf(unreachable.chat(request, limits))).kind).toBe("connection")
  })

  it("streams deltas and ends with the usage it asked for", async () => {
    upstream.on("/v1/chat/completions", sse(openAiStream(["a", "b"], { model: "m-2025" })))
    const events = await collect(provider().stream(request, limits))
    expect(events).toEqual([
      { _tag: "Delta", text: "a" },
      { _tag: "Delta", text: "b" },
      {
        _tag: "Done",
        model: "m-2025",
        finishReason: "stop",
        usage: { promptTokens: 11, completionTokens: 2, totalTokens: 13 },
        usageCounted: false
      }
    ])
    expect(upstream.received[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } })
  })

  it("fails a stream whose first token is too slow, and cancels it", async () => {
    upstream.on("/v1/chat/completions", sse(openAiStream(["late"], { firstDelayMs: 1500 })))
    const failure = await failureOf(Stream.runDrain(provider().stream(request, limits)))
    expect(failure.kind).toBe("timeout")
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(upstream.received[0]!.aborted).toBe(true)
  })

  it("fails a stream that pauses too long after it started", async () => {
    upstream.on(
      "/v1/chat/completions",
      sse([...firstEvents(openAiStream(["a"]), 2), ...openAiStream(["b"], { delayMs: 1500 }).slice(1)])
    )
    const failure = await failureOf(Stream.runDrain(provider().stream(request, limits)))
    expect(failure.kind).toBe("timeout")
  })

  it("lists the models", async () => {
    upstream.on("/v1/models", openAiModels("m1", "m2"))
    expect(await Effect.runPromise(provider().probe("1 second"))).toEqual(["m1", "m2"])
  })

  it("uses max_completion_tokens where the host wants it", async () => {
    upstream.on("/v1/chat/completions", openAiCompletion("x"))
    const modern = OpenAiCompatibleProvider.make({
      name: "openai",
      baseUrl: `${upstream.url}/v1`,
      maxTokensField: "max_completion_tokens"
    })
    await Effect.runPromise(modern.chat(request, limits))
    expect(upstream.received[0]!.body.max_completion_tokens).toBe(64)
    expect(upstream.received[0]!.body.max_tokens).toBeUndefined()
  })
})

describe("AzureOpenAiProvider", () => {
  const provider = () =>
    AzureOpenAiProvider.make({
      endpoint: upstream.url,
      apiKey: Redacted.make("azure-key"),
      deployments: ["gpt4o-prod", "mini"],
      apiVersion: "2024-10-21"
    })

  it("addresses the deployment with the API version and the api-key header", async () => {
    upstream.on("/openai/deployments/mini/chat/completions", openAiCompletion("from azure"))
    const completion = await Effect.runPromise(provider().chat({ ...request, model: "mini" }, limits))
    expect(completion.text).toBe("from azure")
    const sent = upstream.received[0]!
    expect(sent.path).toBe("/openai/deployments/mini/chat/completions?api-version=2024-10-21")
    expect(sent.headers["api-key"]).toBe("azure-key")
    expect(sent.body.max_completion_tokens).toBe(64)
  })

  it("serves its deployments as models, and probes the resource", async () => {
    upstream.on("/openai/models", json({ data: [], object: "list" }))
    const azure = provider()
    expect(azure.defaultModel).toBe("gpt4o-prod")
    expect(await Effect.runPromise(azure.probe("1 second"))).toEqual(["gpt4o-prod", "mini"])
    expect(upstream.received[0]!.path).toBe("/openai/models?api-version=2024-10-21")
  })
})

describe("AnthropicProvider", () => {
  const provider = () =>
    AnthropicProvider.make({ apiKey: Redacted.make("sk-ant-x"), baseUrl: upstream.url, defaultModel: "claude-test" })

  it("translates the system prompt and roles, and reads the usage with cached tokens", async () => {
    upstream.on("/v1/messages", anthropicMessage("Bonjour"))
    const completion = await Effect.runPromise(provider().chat(request, limits))
    expect(completion).toMatchObject({ text: "Bonjour", model: "claude-test", finishReason: "stop" })
    expect(completion.usage).toEqual({ promptTokens: 25, completionTokens: 9, totalTokens: 34 })
    const sent = upstream.received[0]!
    // SDK 1.x sends the key as a bearer token (older versions used x-api-key).
    expect(sent.headers["x-api-key"] ?? sent.headers.authorization).toContain("sk-ant-x")
    expect(sent.body).toEqual({
      model: "m",
      max_tokens: 64,
      system: "Be brief.",
      messages: [{ role: "user", content: "Hello\n\nAgain" }],
      temperature: 1
    })
  })

  it("reads its stream events: text deltas, pings skipped, usage from message_start and message_delta", async () => {
    upstream.on("/v1/messages", sse(anthropicStream(["Bon", "jour"])))
    const events = await collect(provider().stream(request, limits))
    expect(events).toEqual([
      { _tag: "Delta", text: "Bon" },
      { _tag: "Delta", text: "jour" },
      {
        _tag: "Done",
        model: "claude-test",
        finishReason: "stop",
        usage: { promptTokens: 25, completionTokens: 15, totalTokens: 40 },
        usageCounted: false
      }
    ])
    expect(upstream.received[0]!.body.stream).toBe(true)
  })

  it("turns an error event mid-stream into a failure after the text so far", async () => {
    upstream.on(
      "/v1/messages",
      sse([...anthropicStream(["Bon"]).slice(0, 4), anthropicErrorEvent("overloaded_error", "Overloaded")])
    )
    const seen: Array<AIProvider.StreamEvent> = []
    const failure = await failureOf(
      Stream.runForEach(provider().stream(request, limits), (event) => Effect.sync(() => seen.push(event)))
    )
    expect(seen).toEqual([{ _tag: "Delta", text: "Bon" }])
    expect(failure).toMatchObject({ kind: "server", message: "Overloaded" })
  })

  it("treats a stream cut before message_stop as incomplete", async () => {
    upstream.on("/v1/messages", sse(anthropicStream(["Bon"]).slice(0, -1)))
    expect((await failureOf(Stream.runDrain(provider().stream(request, limits)))).kind).toBe("incomplete")
  })

  it("reads a 429 with Retry-After and an error body", async () => {
    upstream.on("/v1/messages", anthropicError(429, "rate_limit_error", "Slow down", { "retry-after": "3" }))
    const failure = await failureOf(provider().chat(request, limits))
    expect(failure).toMatchObject({ kind: "rate_limited", retryAfterMs: 3000, message: "Slow down" })
  })

  it("reads a 529 overload as a server fault", async () => {
    upstream.on("/v1/messages", anthropicError(529, "overloaded_error", "Overloaded"))
    expect((await failureOf(provider().chat(request, limits))).kind).toBe("server")
  })

  it("lists its models", async () => {
    upstream.on("/v1/models", anthropicModels("claude-a", "claude-b"))
    expect(await Effect.runPromise(provider().probe("1 second"))).toEqual(["claude-a", "claude-b"])
  })
})

describe("AIProvider.fromPromises", () => {
  it("builds a provider from promise-based calls: strings are deltas, the clean end finishes", async () => {
    const provider = AIProvider.fromPromises({
      name: "custom",
      chatCompletion: async (req) => ({
        text: `echo ${req.messages.at(-1)!.content}`,
        model: req.model,
        finishReason: "stop"
      }),
      streamCompletion: async function* () {
        yield "one "
        yield "two"
      },
      getModels: async () => ["echo-1"],
      isHealthy: async () => false
    })
    expect((await Effect.runPromise(provider.chat(request))).text).toBe("echo Again")
    const events = await collect(provider.stream(request))
    expect(events.map((e) => (e._tag === "Delta" ? e.text : e.finishReason))).toEqual(["one ", "two", "stop"])
    expect((await failureOf(provider.probe("1 second"))).message).toContain("unhealthy")
  })
})
