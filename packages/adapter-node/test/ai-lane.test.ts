import { createServer, request } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  openAiCompletion,
  openAiModels,
  openAiStream,
  sse,
  startUpstream,
  type Upstream
} from "../../core/test/ai/fakes.ts"
import { adminKey, auth, type RunningGateway, startGateway } from "./support/gateway.ts"
import { waitFor } from "./support/process.ts"

/**
 * `/v1/chat/completions` through Node's listener on the AI lane: bodies read with their limit,
 * streams written as they come, and a client that leaves cancels the upstream request.
 */
let upstream: Upstream
let gateway: RunningGateway
const chat = { model: "gpt-test", messages: [{ role: "user", content: "Say hello" }] }
const headers = { ...auth, "content-type": "application/json" }

beforeAll(async () => {
  upstream = await startUpstream()
  upstream.on("/v1/models", openAiModels("gpt-test"))
  upstream.on("/v1/chat/completions", openAiCompletion("Hello"))
  gateway = await startGateway({
    OPENAI_ENABLED: "true",
    OPENAI_API_KEY: "sk-upstream-secret-0123456789",
    OPENAI_BASE_URL: `${upstream.url}/v1`,
    MAX_BODY_BYTES: "4096"
  })
  // The first AI request waits for the providers' first health probe, on the complete lane.
  await fetch(gateway.url("/v1/chat/completions"), { method: "POST", headers, body: JSON.stringify(chat) })
})
afterAll(async () => {
  await gateway.close()
  await upstream.close()
})

/** A POST whose body is sent in chunks without a declared length, as a streaming client sends it. */
const chunked = (path: string, chunks: ReadonlyArray<string>) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const sent = request(gateway.url(path), { method: "POST", headers }, (response) => {
      let body = ""
      response.on("data", (data) => {
        body += data
      })
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }))
    })
    sent.on("error", reject)
    for (const chunk of chunks) sent.write(chunk)
    sent.end()
  })

describe("the AI lane on Node", () => {
  it("reads a body sent in chunks and forwards it whole", async () => {
    upstream.on("/v1/chat/completions", openAiCompletion("Hello"))
    upstream.received.length = 0
    const text = JSON.stringify({ ...chat, user: "u-1" })
    const answer = await chunked("/v1/chat/completions", [text.slice(0, 10), text.slice(10)])
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body).choices[0].message.content).toBe("Hello")
    expect(upstream.received.at(-1)?.body).toEqual({ ...chat, user: "u-1" })
  })

  it("answers 413 to a body over the limit sent without a length, and forwards nothing", async () => {
    upstream.received.length = 0
    const answer = await chunked("/v1/chat/completions", ['{"model":"gpt-test","pad":"', "x".repeat(6000), '"}'])
    expect(answer.status).toBe(413)
    expect(JSON.parse(answer.body).error.code).toBe("PAYLOAD_TOO_LARGE")
    expect(upstream.received).toHaveLength(0)
  })

  it("streams events as the upstream sends them", async () => {
    upstream.on("/v1/chat/completions", sse(openAiStream(["a", "b", "c"], { delayMs: 150 })))
    const response = await fetch(gateway.url("/v1/chat/completions"), {
      method: "POST",
      headers,
      body: JSON.stringify({ ...chat, stream: true })
    })
    expect(response.headers.get("content-type")).toBe("text/event-stream")
    const reader = response.body!.getReader()
    const first = await reader.read()
    // The first event arrives before the upstream has sent the rest (450 ms of pauses).
    expect(new TextDecoder().decode(first.value)).toContain('"role":"assistant"')
    let text = ""
    for (let read = await reader.read(); !read.done; read = await reader.read())
      text += new TextDecoder().decode(read.value)
    expect(text).toContain("data: [DONE]")
    expect(text).not.toContain('"usage":{')
  })

  it("forwards every event of a stream whose rest arrives right behind its first event", async () => {
    // Each event in its own write with no pause: the head leaves, and the rest and the end follow
    // within the same turn of the event loop, on a keep-alive connection used again each time.
    upstream.on("/v1/chat/completions", sse(openAiStream(["Hel", "lo", ", wor", "ld"])))
    const events = (text: string) => text.split("\n\n").filter((event) => event !== "")
    const expected = [
      '"role":"assistant"',
      '"content":"Hel"',
      '"content":"lo"',
      '"content":", wor"',
      '"content":"ld"',
      '"finish_reason":"stop"',
      "data: [DONE]"
    ]
    for (let round = 0; round < 5; round++) {
      const response = await fetch(gateway.url("/v1/chat/completions"), {
        method: "POST",
        headers,
        body: JSON.stringify({ ...chat, stream: true })
      })
      const answered = events(await response.text())
      expect(answered).toHaveLength(expected.length)
      for (const [i, event] of answered.entries()) expect(event).toContain(expected[i])
    }
  })

  it("cancels the upstream request when the client leaves mid-stream, and logs the request once", async () => {
    upstream.on("/v1/chat/completions", sse(openAiStream(["a", "b", "c", "d"], { delayMs: 200 }), { end: "hang" }))
    upstream.received.length = 0
    const controller = new AbortController()
    const response = await fetch(gateway.url("/v1/chat/completions"), {
      method: "POST",
      headers: { ...headers, "x-request-id": "leaving-client-1" },
      body: JSON.stringify({ ...chat, stream: true }),
      signal: controller.signal
    })
    await response.body!.getReader().read()
    controller.abort()
    await waitFor(() => upstream.received[0]?.aborted === true, 3000)
    const lines = gateway.logs.filter((line) => line.request_id === "leaving-client-1")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ method: "POST", path: "/v1/chat/completions", status: 200 })
    expect(JSON.stringify(gateway.logs)).not.toContain("sk-upstream-secret")
    expect(JSON.stringify(gateway.logs)).not.toContain(adminKey)
  })
})

describe("the AI lane's time limits", () => {
  let limited: RunningGateway
  beforeAll(async () => {
    limited = await startGateway({
      OPENAI_ENABLED: "true",
      OPENAI_API_KEY: "sk-upstream-secret-0123456789",
      OPENAI_BASE_URL: `${upstream.url}/v1`,
      AI_IDLE_TIMEOUT_MS: "400"
    })
    upstream.on("/v1/chat/completions", openAiCompletion("warm"))
    await fetch(limited.url("/v1/chat/completions"), { method: "POST", headers, body: JSON.stringify(chat) })
  })
  afterAll(() => limited.close())

  const stream = async () => {
    const response = await fetch(limited.url("/v1/chat/completions"), {
      method: "POST",
      headers,
      body: JSON.stringify({ ...chat, stream: true })
    })
    return response.text()
  }

  it("lets a stream run past the idle limit while its chunks keep coming", async () => {
    upstream.on("/v1/chat/completions", sse(openAiStream(["a", "b", "c", "d", "e"], { delayMs: 150 })))
    const text = await stream()
    expect(text).toContain("data: [DONE]")
    expect(text).not.toContain("AI_STREAM_INTERRUPTED")
  })

  it("ends a stream silent for longer than the idle limit with the typed error", async () => {
    upstream.on("/v1/chat/completions", sse(openAiStream(["a", "b"], { delayMs: 900 }), { end: "hang" }))
    upstream.received.length = 0
    const started = Date.now()
    const text = await stream()
    expect(text).toContain('"code":"AI_STREAM_INTERRUPTED"')
    expect(text).not.toContain("[DONE]")
    expect(Date.now() - started).toBeLessThan(3000)
    await waitFor(() => upstream.received[0]?.aborted === true, 3000)
  })
})

describe("an upstream that refuses connections", () => {
  let refusing: RunningGateway
  beforeAll(async () => {
    // A port that was just free: nothing listens on it.
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve))
    const port = (probe.address() as AddressInfo).port
    await new Promise((resolve) => probe.close(resolve))
    refusing = await startGateway({
      OPENAI_ENABLED: "true",
      OPENAI_API_KEY: "sk-upstream-secret-0123456789",
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`
    })
  })
  afterAll(() => refusing.close())

  it("reports each attempt as a connection failure, as the SDKs' path does", async () => {
    for (const path of ["/v1/chat/completions", "/ai/chat"]) {
      const response = await fetch(refusing.url(path), { method: "POST", headers, body: JSON.stringify(chat) })
      expect(response.status).toBe(502)
      const { error } = (await response.json()) as {
        error: { code: string; details: { attempts: ReadonlyArray<{ reason: string }> } }
      }
      expect(error.code).toBe("AI_UPSTREAM_ERROR")
      expect(error.details.attempts.length).toBeGreaterThan(0)
      expect(error.details.attempts.map((attempt) => attempt.reason)).toEqual(
        error.details.attempts.map(() => "connection")
      )
    }
  })
})
