import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Miniflare } from "miniflare"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import exampleCatalog from "../../../examples/catalog.json" with { type: "json" }
import {
  firstEvents,
  openAiCompletion,
  openAiModels,
  openAiStream,
  sse,
  startUpstream,
  type Upstream
} from "../../core/test/ai/fakes.ts"
import { bundleWorker, deployedWorker } from "./bundle.ts"
import { adminKey, gatewayEnv } from "./exchanges.ts"

// The Worker reaches a fake OpenAI-compatible host over loopback, from workerd, as it would reach
// api.openai.com: `/v1/chat/completions` takes the AI lane through `AiLaneResponse` and `fetch`.
let upstream: Upstream
let miniflare: Miniflare
const persistRoot = mkdtempSync(join(tmpdir(), "lunarbit-workers-ai-"))

beforeAll(async () => {
  upstream = await startUpstream()
  upstream.on("/v1/models", openAiModels("gpt-test"))
  miniflare = deployedWorker(
    await bundleWorker(),
    {
      ...gatewayEnv,
      CATALOG: exampleCatalog,
      OPENAI_ENABLED: "true",
      OPENAI_API_KEY: "sk-upstream-secret-0123456789",
      OPENAI_BASE_URL: `${upstream.url}/v1`
    },
    persistRoot
  )
  await miniflare.ready
})
afterAll(async () => {
  await miniflare?.dispose()
  await upstream?.close()
  rmSync(persistRoot, { recursive: true, force: true })
})

const chat = { model: "gpt-test", messages: [{ role: "user", content: "Say hello" }], seed: 7 }
const post = (body: unknown) =>
  miniflare.dispatchFetch("http://gateway.test/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify(body)
  })

describe("the OpenAI-compatible proxy on a Worker", () => {
  it("forwards whole completions, the first and those after it, with every field", async () => {
    upstream.on("/v1/chat/completions", openAiCompletion("Hello there"))
    for (let i = 0; i < 3; i++) {
      upstream.received.length = 0
      const response = await post(chat)
      expect(response.status).toBe(200)
      const answer = (await response.json()) as { choices: Array<{ message: { content: string } }> }
      expect(answer.choices[0]!.message.content).toBe("Hello there")
      expect(upstream.received.at(-1)?.body).toEqual(chat)
      expect(upstream.received.at(-1)?.headers.authorization).toBe("Bearer sk-upstream-secret-0123456789")
    }
  })

  it("streams a completion without the usage chunk the client did not ask for", async () => {
    upstream.on("/v1/chat/completions", sse(openAiStream(["Hel", "lo"])))
    const response = await post({ ...chat, stream: true })
    expect(response.headers.get("content-type")).toBe("text/event-stream")
    const text = await response.text()
    expect(text).toContain('"content":"Hel"')
    expect(text).toContain("data: [DONE]")
    expect(text).not.toContain('"usage":{')
  })

  it("ends a stream cut mid-way with the typed error and no [DONE]", async () => {
    upstream.on("/v1/chat/completions", sse(firstEvents(openAiStream(["a", "b", "c"]), 2)))
    const text = await (await post({ ...chat, stream: true })).text()
    expect(text).toContain('"code":"AI_STREAM_INTERRUPTED"')
    expect(text).not.toContain("[DONE]")
    expect(text).not.toContain("sk-upstream-secret")
  })
})
