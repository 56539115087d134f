import { Layer } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import * as ModelRouter from "../../src/ai/services/ModelRouter.ts"
import {
  firstEvents,
  openAiCompletion,
  openAiError,
  openAiModels,
  openAiStream,
  sleep,
  sse,
  startUpstream,
  type Upstream
} from "./fakes.ts"
import {
  aiKey,
  bearer,
  eventually,
  postJson,
  readerKey,
  readSse,
  type ServedGateway,
  serveGateway,
  tokensAdded,
  tokensOf
} from "./support.ts"

/**
 * The AI routes over real HTTP: the gateway on loopback, two OpenAI-compatible upstreams (LM Studio
 * first, OpenAI second in priority) that are local servers speaking the real wire format.
 */
describe("AI routes", () => {
  let local: Upstream
  let remote: Upstream
  let gateway: ServedGateway

  beforeAll(async () => {
    local = await startUpstream()
    remote = await startUpstream()
    gateway = await serveGateway({
      LMSTUDIO_ENABLED: "true",
      LMSTUDIO_BASE_URL: local.url,
      OPENAI_ENABLED: "true",
      OPENAI_API_KEY: "sk-test-upstream-key",
      OPENAI_BASE_URL: `${remote.url}/v1`,
      OPENAI_MODEL: "gpt-test",
      AI_FIRST_TOKEN_TIMEOUT_MS: "400",
      AI_CIRCUIT_FAILURES: "1000"
    })
  })

  afterAll(async () => {
    await gateway.close()
    await Promise.all([local.close(), remote.close()])
  })

  beforeEach(() => {
    local.received.length = 0
    remote.received.length = 0
    local.on("/v1/models", openAiModels("llama-test"))
    remote.on("/v1/models", openAiModels("gpt-test", "gpt-other"))
  })

  const chatBody = { messages: [{ role: "user", content: "Explain semantic versioning" }] }
  const chats = (upstream: Upstream) => upstream.received.filter((r) => r.path.startsWith("/v1/chat/completions"))

  it("reports the providers, their availability and models without authentication", async () => {
    const response = await fetch(gateway.url("/ai/status"))
    expect(response.status).toBe(200)
    const status = await response.json()
    expect(status.enabled).toBe(true)
    expect(status.strategy).toBe("priority")
    expect(status.providers).toEqual([
      { name: "lmstudio", available: true, models: ["llama-test"], circuit: "closed" },
      { name: "openai", available: true, models: ["gpt-test", "gpt-other"], circuit: "closed" }
    ])
    expect(status.models).toEqual(["llama-test", "gpt-test", "gpt-other"])
  })

  it("answers a chat with the provider's usage and the spec's defaults", async () => {
    local.on("/v1/chat/completions", openAiCompletion("SemVer is MAJOR.MINOR.PATCH.", { model: "llama-test" }))
    const response = await postJson(gateway.url("/ai/chat"), chatBody)
    expect(response.status).toBe(200)
    const body = await response.json()
    expect(body).toMatchObject({ response: "SemVer is MAJOR.MINOR.PATCH.", model: "llama-test", tokens_used: 18 })
    expect(typeof body.processing_time_ms).toBe("number")
    const sent = chats(local)[0]!.body
    expect(sent).toMatchObject({ model: "llama-test", temperature: 0.7, max_tokens: 2000 })
    expect(sent.stream).toBeUndefined()
    expect(response.headers.get("x-request-id")).toMatch(/^req_/)
    expect(response.headers.get("x-content-type-options")).toBe("nosniff")
  })

  it("routes a named model only to the providers serving it", async () => {
    remote.on("/v1/chat/completions", openAiCompletion("from openai", { model: "gpt-other" }))
    const response = await postJson(gateway.url("/ai/chat"), { ...chatBody, model: "gpt-other" })
    expect((await response.json()).response).toBe("from openai")
    expect(chats(local)).toHaveLength(0)
    expect(chats(remote)[0]!.headers.authorization).toBe("Bearer sk-test-upstream-key")
  })

  it("answers MODEL_NOT_AVAILABLE, not a 500, for a model no provider serves", async () => {
    const response = await postJson(gateway.url("/ai/chat"), { ...chatBody, model: "no-such-model" })
    expect(response.status).toBe(404)
    const body = await response.json()
    expect(body.error.code).toBe("MODEL_NOT_AVAILABLE")
    expect(body.error.details.available_models).toContain("gpt-test")
    expect(chats(local).length + chats(remote).length).toBe(0)
  })

  it("fails over to the next provider on a 5xx, within one budget", async () => {
    local.on("/v1/chat/completions", openAiError(503, "model is loading", "server_error"))
    remote.on("/v1/chat/completions", openAiCompletion("from openai"))
    const response = await postJson(gateway.url("/ai/chat"), chatBody)
    expect(response.status).toBe(200)
    expect((await response.json()).response).toBe("from openai")
    expect(chats(local)).toHaveLength(1)
    expect(chats(remote)).toHaveLength(1)
  })

  it("redacts credentials an upstream echoes in its error before they reach the client", async () => {
    const echoed = "Invalid header: Authorization: Bearer sk-proj-0123456789abcdefghij (key sk-test-upstream-key)"
    local.on("/v1/chat/completions", openAiError(400, echoed, "invalid_request_error"))
    const response = await postJson(gateway.url("/ai/chat"), chatBody)
    expect(response.status).toBe(400)
    const text = await response.text()
    expect(JSON.parse(text).error.code).toBe("AI_REQUEST_REJECTED")
    expect(text).toContain("Invalid header")
    expect(text).not.toContain("sk-proj-0123456789")
    expect(text).not.toContain("sk-test-upstream-key")

    local.on("/v1/chat/completions", openAiError(500, `upstream saw ${echoed}`, "server_error"))
    remote.on(
      "/v1/chat/completions",
      openAiError(502, "token ghp_0123456789abcdefghijABCDEFGHIJ refused", "server_error")
    )
    const failed = await (await postJson(gateway.url("/ai/chat"), chatBody)).text()
    expect(JSON.parse(failed).error.code).toBe("AI_UPSTREAM_ERROR")
    expect(failed).not.toMatch(/sk-proj-0123456789|sk-test-upstream-key|ghp_0123456789/)
    const status = await (await fetch(gateway.url("/ai/status"))).text()
    expect(status).not.toMatch(/sk-proj-0123456789|sk-test-upstream-key|ghp_0123456789/)
  })

  it("never multiplies upstream calls: three attempts in all when every provider fails", async () => {
    local.on("/v1/chat/completions", openAiError(500, "boom", "server_error"))
    remote.on("/v1/chat/completions", openAiError(502, "bad gateway", "server_error"))
    const response = await postJson(gateway.url("/ai/chat"), chatBody)
    expect(response.status).toBe(502)
    const body = await response.json()
    expect(body.error.code).toBe("AI_UPSTREAM_ERROR")
    expect(body.error.details.attempts).toHaveLength(3)
    expect(chats(local).length + chats(remote).length).toBe(3)
  })

  it("cancels the upstream call when the client of a non-streamed chat goes away", async () => {
    local.on("/v1/chat/completions", async (request, response) => {
      await sleep(3000)
      if (!request.aborted) await openAiCompletion("too late")(request, response)
    })
    const controller = new AbortController()
    const pending = fetch(gateway.url("/ai/chat"), {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(aiKey) },
      body: JSON.stringify(chatBody),
      signal: controller.signal
    }).catch(() => undefined)
    await eventually(() => chats(local).length === 1)
    controller.abort()
    await pending
    await eventually(() => chats(local)[0]!.aborted)
  })

  it("refuses keys without canUseAI with 403 naming the permission, and requests without a key with 401", async () => {
    const forbidden = await postJson(gateway.url("/ai/chat"), chatBody, readerKey)
    expect(forbidden.status).toBe(403)
    const body = await forbidden.json()
    expect(body.error.code).toBe("FORBIDDEN")
    expect(body.error.details.required_permission).toBe("canUseAI")
    const anonymous = await fetch(gateway.url("/ai/chat"), { method: "POST", body: JSON.stringify(chatBody) })
    expect(anonymous.status).toBe(401)
  })

  it("validates the body: messages required, temperature within 0-2", async () => {
    const missing = await postJson(gateway.url("/ai/chat"), {})
    expect(missing.status).toBe(400)
    const hot = await postJson(gateway.url("/ai/chat"), { ...chatBody, temperature: 3 })
    expect(hot.status).toBe(400)
    expect((await hot.json()).error.code).toBe("INVALID_REQUEST")
  })

  describe("streaming", () => {
    it("sends token deltas, then a final event with model, tokens_used and processing_time_ms", async () => {
      local.on("/v1/chat/completions", sse(openAiStream(["Sem", "Ver", "!"], { model: "llama-test" })))
      const response = await postJson(gateway.url("/ai/chat"), { ...chatBody, stream: true })
      expect(response.status).toBe(200)
      expect(response.headers.get("content-type")).toContain("text/event-stream")
      expect(response.headers.get("x-request-id")).toMatch(/^req_/)
      const events = await readSse(response)
      expect(events.map((e) => e.event)).toEqual(["delta", "delta", "delta", "done"])
      expect(events.slice(0, 3).map((e) => JSON.parse(e.data).content)).toEqual(["Sem", "Ver", "!"])
      const done = JSON.parse(events[3]!.data)
      expect(done).toMatchObject({ model: "llama-test", tokens_used: 14, finish_reason: "stop" })
      expect(typeof done.processing_time_ms).toBe("number")
      expect(chats(local)[0]!.body.stream_options).toEqual({ include_usage: true })
    })

    it("counts tokens locally when the stream carries no usage", async () => {
      local.on("/v1/chat/completions", sse(openAiStream(["Hello", " there"], { usage: false })))
      const events = await readSse(await postJson(gateway.url("/ai/chat"), { ...chatBody, stream: true }))
      const done = JSON.parse(events.at(-1)!.data)
      expect(done.tokens_used).toBeGreaterThan(2)
    })

    it("fails over before the first token when the first provider drops the connection", async () => {
      local.on("/v1/chat/completions", sse(firstEvents(openAiStream(["never"]), 1), { end: "drop" }))
      remote.on("/v1/chat/completions", sse(openAiStream(["from ", "openai"])))
      const response = await postJson(gateway.url("/ai/chat"), { ...chatBody, stream: true })
      const events = await readSse(response)
      expect(
        events
          .filter((e) => e.event === "delta")
          .map((e) => JSON.parse(e.data).content)
          .join("")
      ).toBe("from openai")
      expect(events.at(-1)!.event).toBe("done")
    })

    it("fails over when the first token is too slow, and cancels the slow upstream", async () => {
      local.on("/v1/chat/completions", sse(openAiStream(["late"], { firstDelayMs: 2000 })))
      remote.on("/v1/chat/completions", sse(openAiStream(["fast"])))
      const events = await readSse(await postJson(gateway.url("/ai/chat"), { ...chatBody, stream: true }))
      expect(JSON.parse(events[0]!.data).content).toBe("fast")
      await eventually(() => chats(local)[0]!.aborted)
    })

    it("ends with a typed error event, never a silent truncation, when the upstream drops mid-stream", async () => {
      local.on("/v1/chat/completions", sse(firstEvents(openAiStream(["partial ", "answer"]), 2), { end: "drop" }))
      const response = await postJson(gateway.url("/ai/chat"), { ...chatBody, stream: true })
      expect(response.status).toBe(200)
      const events = await readSse(response)
      expect(events.map((e) => e.event)).toEqual(["delta", "error"])
      const error = JSON.parse(events[1]!.data).error
      expect(error.code).toBe("AI_STREAM_INTERRUPTED")
      expect(error.details).toEqual({ provider: "lmstudio", reason: "connection" })
      expect(error.request_id).toBe(response.headers.get("x-request-id"))
      // No failover after the first token: the client already has part of an answer.
      expect(chats(remote)).toHaveLength(0)
    })

    it("relays a provider's error event mid-stream as a typed error event", async () => {
      local.on(
        "/v1/chat/completions",
        sse([
          ...firstEvents(openAiStream(["partial"]), 2),
          { data: { error: { message: "The server had an error", type: "server_error", param: null, code: null } } }
        ])
      )
      const events = await readSse(await postJson(gateway.url("/ai/chat"), { ...chatBody, stream: true }))
      expect(events.map((e) => e.event)).toEqual(["delta", "error"])
      expect(JSON.parse(events[1]!.data).error.details.reason).toBe("server")
    })

    it("treats a stream that ends cleanly without a finish as cut", async () => {
      local.on("/v1/chat/completions", sse(firstEvents(openAiStream(["half"]), 2)))
      const events = await readSse(await postJson(gateway.url("/ai/chat"), { ...chatBody, stream: true }))
      expect(events.map((e) => e.event)).toEqual(["delta", "error"])
      expect(JSON.parse(events[1]!.data).error.details.reason).toBe("incomplete")
    })

    it("answers a proper HTTP error when no provider can start the stream", async () => {
      local.on("/v1/chat/completions", openAiError(500, "boom", "server_error"))
      remote.on("/v1/chat/completions", openAiError(500, "boom", "server_error"))
      const response = await postJson(gateway.url("/ai/chat"), { ...chatBody, stream: true })
      expect(response.status).toBe(502)
      expect((await response.json()).error.code).toBe("AI_UPSTREAM_ERROR")
    })

    it("cancels the upstream request when the client disconnects", async () => {
      local.on(
        "/v1/chat/completions",
        sse(
          openAiStream(
            Array.from({ length: 50 }, (_, i) => `t${i} `),
            { delayMs: 50 }
          )
        )
      )
      const response = await postJson(gateway.url("/ai/chat"), { ...chatBody, stream: true })
      const reader = response.body!.getReader()
      await reader.read()
      await reader.cancel()
      await eventually(() => chats(local)[0]?.aborted === true)
    })
  })

  describe("changelog analysis", () => {
    const changelog = {
      version: "1.2.0",
      changelog: "- Fixed memory leak\n- Added dark mode\n- Breaking: Removed Node 14 support"
    }

    it("asks for schema-constrained JSON and answers the validated analysis", async () => {
      local.on(
        "/v1/chat/completions",
        openAiCompletion(
          JSON.stringify({
            analysis: "Fixes a leak, adds dark mode, drops Node 14.",
            breaking: true,
            severity: "major"
          })
        )
      )
      const response = await postJson(gateway.url("/ai/analyze-changelog"), changelog)
      expect(response.status).toBe(200)
      expect(await response.json()).toEqual({
        version: "1.2.0",
        analysis: "Fixes a leak, adds dark mode, drops Node 14.",
        breaking: true,
        severity: "major"
      })
      const sent = chats(local)[0]!.body
      expect(sent.response_format.type).toBe("json_schema")
      expect(sent.response_format.json_schema.schema.required).toEqual(["analysis", "breaking", "severity"])
      expect(sent.messages[1].content).toContain("Removed Node 14 support")
    })

    it("answers AI_INVALID_OUTPUT when the model's JSON does not match the schema", async () => {
      local.on("/v1/chat/completions", openAiCompletion(JSON.stringify({ analysis: "ok", severity: "huge" })))
      const response = await postJson(gateway.url("/ai/analyze-changelog"), changelog)
      expect(response.status).toBe(502)
      const body = await response.json()
      expect(body.error.code).toBe("AI_INVALID_OUTPUT")
      expect(body.error.details.issues.length).toBeGreaterThan(0)
    })

    it("answers a clear error when no provider can answer", async () => {
      local.on("/v1/chat/completions", (_request, response) => {
        response.destroy()
      })
      remote.on("/v1/chat/completions", (_request, response) => {
        response.destroy()
      })
      const response = await postJson(gateway.url("/ai/analyze-changelog"), changelog)
      expect(response.status).toBe(502)
      const body = await response.json()
      expect(body.error.code).toBe("AI_UPSTREAM_ERROR")
      expect(body.error.details.attempts.map((a: { reason: string }) => a.reason)).toEqual([
        "connection",
        "connection",
        "connection"
      ])
    })
  })

  it("adds the tokens to the key's usage stats", async () => {
    const before = await tokensOf(gateway)
    local.on("/v1/chat/completions", openAiCompletion("counted"))
    await postJson(gateway.url("/ai/chat"), chatBody)
    local.on("/v1/chat/completions", sse(openAiStream(["a", "b"])))
    await readSse(await postJson(gateway.url("/ai/chat"), { ...chatBody, stream: true }))
    expect((await tokensOf(gateway)) - before).toBe(18 + 13)
  })

  it("adds the tokens of a stream cut mid-way, counted up to the cut", async () => {
    const before = await tokensOf(gateway)
    local.on("/v1/chat/completions", sse(firstEvents(openAiStream(["partial ", "answer"]), 3), { end: "drop" }))
    const events = await readSse(await postJson(gateway.url("/ai/chat"), { ...chatBody, stream: true }))
    expect(events.map((e) => e.event)).toEqual(["delta", "delta", "error"])
    // The prompt and the two pieces the client received, estimated locally.
    expect(await tokensAdded(gateway, before)).toBeGreaterThan(5)
  })

  it("documents the AI routes in the OpenAPI document", async () => {
    const document = await (await fetch(gateway.url("/openapi.json"))).json()
    for (const path of ["/ai/status", "/ai/chat", "/ai/analyze-changelog", "/v1/chat/completions", "/v1/models"]) {
      expect(Object.keys(document.paths)).toContain(path)
    }
    expect(Object.keys(document.paths["/ai/chat"].post.responses["200"].content)).toEqual([
      "application/json",
      "text/event-stream"
    ])
  })

  it("serves the AI routes under /api/v2 too", async () => {
    const status = await fetch(gateway.url("/api/v2/ai/status"))
    expect(status.status).toBe(200)
    expect((await status.json()).enabled).toBe(true)
  })
})

describe("AI without providers", () => {
  let gateway: ServedGateway
  beforeAll(async () => {
    gateway = await serveGateway({})
  })
  afterAll(() => gateway.close())

  it("answers enabled: false on /ai/status and AI_NOT_CONFIGURED (503) on chat", async () => {
    const status = await (await fetch(gateway.url("/ai/status"))).json()
    expect(status).toEqual({ enabled: false, strategy: "priority", providers: [], models: [] })
    const chat = await postJson(gateway.url("/ai/chat"), { messages: [{ role: "user", content: "hi" }] })
    expect(chat.status).toBe(503)
    expect((await chat.json()).error.code).toBe("AI_NOT_CONFIGURED")
  })
})

describe("AI provider transport", () => {
  it("sends the configured providers' requests through ProviderFetch when one is provided", async () => {
    const upstream = await startUpstream()
    upstream.on("/v1/models", openAiModels("gpt-test"))
    upstream.on("/v1/chat/completions", openAiCompletion("via the given fetch"))
    const seen: Array<string> = []
    const counting: typeof fetch = (input, init) => {
      seen.push(String(input instanceof Request ? input.url : input))
      return fetch(input, init)
    }
    const gateway = await serveGateway(
      { OPENAI_ENABLED: "true", OPENAI_BASE_URL: `${upstream.url}/v1` },
      Layer.succeed(ModelRouter.ProviderFetch, counting) as Layer.Layer<never>
    )
    try {
      const response = await postJson(gateway.url("/ai/chat"), { messages: [{ role: "user", content: "hi" }] })
      expect((await response.json()).response).toBe("via the given fetch")
      expect(seen.some((url) => url.endsWith("/v1/chat/completions"))).toBe(true)
    } finally {
      await gateway.close()
      await upstream.close()
    }
  })
})
