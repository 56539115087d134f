import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { start } from "./server.ts"

const admin = "custom-provider-admin-key-0123456789"

/** A local server speaking Ollama's native wire: `/api/tags`, and `/api/chat` as JSON or NDJSON. */
const fakeOllama = async () => {
  const server: Server = createServer(async (request, response) => {
    if (request.url === "/api/tags") {
      response.writeHead(200, { "content-type": "application/json" })
      response.end(JSON.stringify({ models: [{ name: "llama3.2:latest", model: "llama3.2:latest" }] }))
      return
    }
    let text = ""
    for await (const chunk of request) text += chunk
    const body = JSON.parse(text)
    const done = { model: body.model, done: true, done_reason: "stop", prompt_eval_count: 12, eval_count: 3 }
    if (!body.stream) {
      response.writeHead(200, { "content-type": "application/json" })
      response.end(JSON.stringify({ ...done, message: { role: "assistant", content: "Hi from Ollama" } }))
      return
    }
    response.writeHead(200, { "content-type": "application/x-ndjson" })
    for (const piece of ["Hi", " from", " Ollama"]) {
      response.write(
        `${JSON.stringify({ model: body.model, message: { role: "assistant", content: piece }, done: false })}\n`
      )
    }
    response.end(`${JSON.stringify({ ...done, message: { role: "assistant", content: "" } })}\n`)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() }
}

describe("a custom AI provider registered through the public API", () => {
  let ollama: Awaited<ReturnType<typeof fakeOllama>>
  let app: Awaited<ReturnType<typeof start>>
  const url = (path: string) => `http://127.0.0.1:${app.port}${path}`
  const chat = (body: object) =>
    fetch(url("/ai/chat"), {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "Hello" }], ...body })
    })

  beforeAll(async () => {
    ollama = await fakeOllama()
    app = await start({
      port: 0,
      ollamaUrl: ollama.url,
      env: { API_KEY_ADMIN: admin, LOG_LEVEL: "fatal", DATABASE_PATH: ":memory:", BUILD_VERIFICATION: "false" }
    })
  })
  afterAll(async () => {
    await app.close()
    ollama.close()
  })

  it("appears in /ai/status with its models", async () => {
    const status = await (await fetch(url("/ai/status"))).json()
    expect(status.enabled).toBe(true)
    expect(status.providers).toEqual([
      { name: "ollama", available: true, models: ["llama3.2:latest"], circuit: "closed" }
    ])
  })

  it("answers chats through the router", async () => {
    const body = await (await chat({})).json()
    expect(body).toMatchObject({ response: "Hi from Ollama", model: "llama3.2:latest", tokens_used: 15 })
  })

  it("streams, with its own usage in the final event", async () => {
    const text = await (await chat({ stream: true })).text()
    expect(text).toContain('event: delta\ndata: {"content":" Ollama"}')
    expect(text).toContain('"tokens_used":15')
  })
})
