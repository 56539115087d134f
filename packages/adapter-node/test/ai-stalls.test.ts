import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  openAiCompletion,
  openAiModels,
  openAiStream,
  type Reply,
  type SseEvent,
  sleep,
  sse,
  startUpstream,
  type Upstream
} from "../../core/test/ai/fakes.ts"
import { auth, type RunningGateway, startGateway } from "./support/gateway.ts"

/**
 * A stall of the gateway's own event loop (a paused process, a starved CPU, a long synchronous
 * task) is not the provider's fault. After one, the timers of the upstream calls' limits can run
 * before the answers that arrived in time are read: those answers must still reach the client, and
 * the provider's circuit must stay closed. Here the stall is the fake upstream's, which shares the
 * event loop: it answers, then holds the loop past the limits.
 */
const limitMs = 300
const stallMs = 700
let upstream: Upstream
let gateway: RunningGateway
const chat = { model: "gpt-test", messages: [{ role: "user", content: "Say hello" }] }

const hold = () => {
  const until = Date.now() + stallMs
  while (Date.now() < until) {
    // Holds the event loop, as a paused or starved process does.
  }
}

const thenStall =
  (reply: Reply): Reply =>
  async (request, response) => {
    await reply(request, response)
    hold()
  }

/**
 * A stream whose first event comes at once and the rest 50 ms later, written from the event loop's
 * check phase and followed there by the stall: the idle limit's timer comes due before the next
 * read of the socket.
 */
const quietThenStall =
  (events: ReadonlyArray<SseEvent>): Reply =>
  async (_, response) => {
    const text = (event: SseEvent) =>
      `data: ${typeof event.data === "string" ? event.data : JSON.stringify(event.data)}\n\n`
    response.writeHead(200, { "content-type": "text/event-stream" })
    response.write(text(events[0]!))
    await sleep(50)
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        response.end(events.slice(1).map(text).join(""))
        hold()
        resolve()
      })
    )
  }

// `application/json` alone takes the AI lane; with a charset the request goes to the complete lane.
const lanes = [
  ["the AI lane", "application/json"],
  ["the complete lane", "application/json; charset=utf-8"]
] as const

const post = (contentType: string, body: unknown) =>
  fetch(gateway.url("/v1/chat/completions"), {
    method: "POST",
    headers: { ...auth, "content-type": contentType },
    body: JSON.stringify(body)
  })

beforeAll(async () => {
  upstream = await startUpstream()
  upstream.on("/v1/models", openAiModels("gpt-test"))
  upstream.on("/v1/chat/completions", openAiCompletion("warm"))
  gateway = await startGateway({
    OPENAI_ENABLED: "true",
    OPENAI_API_KEY: "sk-upstream-secret-0123456789",
    OPENAI_BASE_URL: `${upstream.url}/v1`,
    AI_TIMEOUT_MS: String(limitMs),
    AI_FIRST_TOKEN_TIMEOUT_MS: String(limitMs),
    AI_IDLE_TIMEOUT_MS: String(limitMs),
    AI_MAX_ATTEMPTS: "1",
    AI_CIRCUIT_FAILURES: "2"
  })
  // The first AI request waits for the providers' first health probe and caches the key.
  await post("application/json", chat)
})
afterAll(async () => {
  await gateway.close()
  await upstream.close()
})

describe.each(lanes)("after the gateway's event loop stalls, on %s", (_, contentType) => {
  it("answers with the completion that arrived in time, and keeps the circuit closed", async () => {
    upstream.on("/v1/chat/completions", thenStall(openAiCompletion("in time")))
    for (let stall = 0; stall < 3; stall++) {
      const response = await post(contentType, chat)
      expect(response.status).toBe(200)
      expect((await response.json()).choices[0].message.content).toBe("in time")
    }
    upstream.on("/v1/chat/completions", openAiCompletion("after"))
    expect((await post(contentType, chat)).status).toBe(200)
  })

  it("streams the events that arrived in time", async () => {
    upstream.on("/v1/chat/completions", thenStall(sse(openAiStream(["in", " time"]))))
    for (let stall = 0; stall < 3; stall++) {
      const response = await post(contentType, { ...chat, stream: true })
      expect(response.status).toBe(200)
      const text = await response.text()
      expect(text).toContain('"content":" time"')
      expect(text).toContain("data: [DONE]")
      expect(text).not.toContain('"error"')
    }
  })

  it("keeps a stream that went quiet only while the gateway stalled", async () => {
    upstream.on("/v1/chat/completions", quietThenStall(openAiStream(["in", " time", "!"])))
    const response = await post(contentType, { ...chat, stream: true })
    const text = await response.text()
    expect(text).toContain('"content":"!"')
    expect(text).toContain("data: [DONE]")
    expect(text).not.toContain('"error"')
  })
})
