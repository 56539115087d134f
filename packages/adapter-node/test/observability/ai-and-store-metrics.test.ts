import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  json,
  openAiCompletion,
  openAiModels,
  openAiStream,
  sse,
  startUpstream,
  type Upstream
} from "../../../core/test/ai/fakes.ts"
import { auth, type RunningGateway, startGateway } from "../support/gateway.ts"
import { waitFor } from "../support/process.ts"
import { metricsUrlOf, scrape } from "../support/prometheus.ts"
import { type InterruptibleServer, interruptibleRedis } from "../support/services.ts"

const started = async (env: Record<string, string>) => {
  const gateway = await startGateway({ METRICS_PORT: "0", ...env })
  await waitFor(() => metricsUrlOf(gateway.logs) !== undefined)
  return { gateway, scrape: () => scrape(metricsUrlOf(gateway.logs)!) }
}

const chat = (gateway: RunningGateway, body: Record<string, unknown> = {}) =>
  fetch(gateway.url("/ai/chat"), {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "Explain semantic versioning" }], ...body })
  })

describe("AI metrics", () => {
  let local: Upstream
  let remote: Upstream
  let running: Awaited<ReturnType<typeof started>>
  beforeAll(async () => {
    local = await startUpstream()
    remote = await startUpstream()
    local.on("/v1/models", openAiModels("llama-test"))
    remote.on("/v1/models", openAiModels("gpt-test"))
    running = await started({
      LMSTUDIO_ENABLED: "true",
      LMSTUDIO_BASE_URL: local.url,
      OPENAI_ENABLED: "true",
      OPENAI_API_KEY: "sk-upstream-secret-0123456789",
      OPENAI_BASE_URL: `${remote.url}/v1`,
      OPENAI_MODEL: "gpt-test",
      AI_CIRCUIT_FAILURES: "2"
    })
  })
  afterAll(async () => {
    await running?.gateway.close()
    await Promise.all([local?.close(), remote?.close()])
  })

  it("count attempts by outcome, failovers, tokens, latency, first tokens and circuit states", async () => {
    local.on("/v1/chat/completions", json({ error: { message: "overloaded", type: "server_error" } }, 500))
    remote.on(
      "/v1/chat/completions",
      openAiCompletion("Semantic versioning is..."),
      sse(openAiStream(["Semantic ", "versioning"]))
    )
    // Two requests, each failing over from LM Studio to OpenAI; the second LM Studio failure opens its circuit.
    expect((await chat(running.gateway)).status).toBe(200)
    const streamed = await chat(running.gateway, { stream: true })
    expect(streamed.status).toBe(200)
    await streamed.text()

    const metrics = await running.scrape()
    const value = (name: string, labels: Record<string, string>) => metrics.value(name, labels)
    expect(value("lunarbit_ai_requests_total", { provider: "lmstudio", model: "llama-test", outcome: "server" })).toBe(
      2
    )
    expect(value("lunarbit_ai_requests_total", { provider: "openai", model: "gpt-test", outcome: "success" })).toBe(2)
    expect(value("lunarbit_ai_failovers_total", { provider: "lmstudio", model: "llama-test" })).toBe(2)
    expect(value("lunarbit_ai_failovers_total", { provider: "openai", model: "gpt-test" })).toBe(0)
    // The fakes report 11 prompt tokens; 7 completion tokens whole, one per piece streamed.
    expect(value("lunarbit_ai_tokens_total", { provider: "openai", model: "gpt-test", direction: "input" })).toBe(22)
    expect(value("lunarbit_ai_tokens_total", { provider: "openai", model: "gpt-test", direction: "output" })).toBe(9)
    expect(metrics.histogram("lunarbit_ai_request_duration_seconds", { provider: "openai" })?.count).toBe(2)
    expect(metrics.histogram("lunarbit_ai_time_to_first_token_seconds", { provider: "openai" })?.count).toBe(1)
    expect(value("lunarbit_ai_circuit_state", { provider: "lmstudio", state: "open" })).toBe(1)
    expect(value("lunarbit_ai_circuit_state", { provider: "lmstudio", state: "closed" })).toBe(0)
    expect(value("lunarbit_ai_circuit_state", { provider: "openai", state: "closed" })).toBe(1)
    // Tracing is off here: no trace context goes upstream.
    const chats = [...local.received, ...remote.received].filter((r) => r.path.startsWith("/v1/chat/completions"))
    expect(chats.length).toBe(4)
    for (const received of chats) expect(received.headers.traceparent).toBeUndefined()
  })

  it("report the catalog's sources: healthy, and how long ago each last synchronised", async () => {
    const metrics = await running.scrape()
    const [source] = metrics.labelSets("lunarbit_catalog_source_up")
    expect(source?.source).toBeDefined()
    expect(metrics.value("lunarbit_catalog_source_up", source!)).toBe(1)
    const age = metrics.value("lunarbit_catalog_source_last_success_age_seconds", source!)
    expect(age).toBeGreaterThanOrEqual(0)
    expect(age).toBeLessThan(60)
  })
})

describe("store metrics", () => {
  let redis: InterruptibleServer
  let running: Awaited<ReturnType<typeof started>>
  beforeAll(async () => {
    redis = await interruptibleRedis()
    running = await started({ REDIS_URL: redis.url })
  }, 60_000)
  afterAll(async () => {
    await running?.gateway.close()
    await redis?.close()
  })

  it("count a store's failures by store while it is down, and none while it is up", async () => {
    expect((await fetch(running.gateway.url("/projects"), { headers: auth })).status).toBe(200)
    expect((await running.scrape()).value("lunarbit_store_errors_total", { store: "rate_limits" })).toBe(0)
    await redis.pause()
    try {
      // The rate limiter's policy (`open`) keeps answering from local buckets.
      expect((await fetch(running.gateway.url("/projects"), { headers: auth })).status).toBe(200)
      const errors = (await running.scrape()).value("lunarbit_store_errors_total", { store: "rate_limits" })
      expect(errors).toBeGreaterThanOrEqual(1)
      expect((await running.scrape()).value("lunarbit_store_errors_total", { store: "keys" })).toBe(0)
    } finally {
      await redis.resume()
    }
  }, 30_000)
})
