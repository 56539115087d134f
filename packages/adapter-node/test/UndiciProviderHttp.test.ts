import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auth, type RunningGateway, startGateway } from "./support/gateway.ts"

const completion =
  '{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3},"extra":true}'
const stream =
  'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}],"usage":null}\n\n' +
  'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n' +
  "data: [DONE]\n\n"

/** The Node gateway's `/v1` pass-through, over undici's pool, against a real upstream on loopback. */
describe("the AI pass-through on undici's pool", () => {
  const seen: Array<{ readonly socket: number; readonly headers: IncomingHttpHeaders; readonly body: string }> = []
  /** Set when a hanging stream's caller went away. */
  let hangingClosed = false
  const sockets = new Map<unknown, number>()
  const upstream = createServer((request, response) => {
    let body = ""
    request.on("data", (data) => {
      body += data
    })
    request.on("end", () => {
      if (!sockets.has(request.socket)) sockets.set(request.socket, sockets.size)
      seen.push({ socket: sockets.get(request.socket)!, headers: request.headers, body })
      if (request.url === "/v1/models") {
        response.writeHead(200, { "content-type": "application/json" })
        response.end('{"object":"list","data":[{"id":"m","object":"model","created":1,"owned_by":"x"}]}')
      } else if (body.includes('"hang"')) {
        // The first event, then silence: the caller must cancel it.
        response.writeHead(200, { "content-type": "text/event-stream" })
        response.write(`${stream.split("\n\n")[0]}\n\n`)
        response.on("close", () => {
          hangingClosed = true
        })
      } else if (body.includes('"stream":true')) {
        response.writeHead(200, { "content-type": "text/event-stream" })
        response.end(stream)
      } else {
        response.writeHead(200, { "content-type": "application/json" })
        response.end(completion)
      }
    })
  })
  let gateway: RunningGateway
  let key: string

  beforeAll(async () => {
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve))
    const { port } = upstream.address() as AddressInfo
    gateway = await startGateway({ OPENAI_ENABLED: "true", OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` })
    const created = await fetch(gateway.url("/admin/keys"), {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ name: "ai", permissions: { canUseAI: true } })
    })
    key = ((await created.json()) as { key: string }).key
  })
  afterAll(async () => {
    await gateway.close()
    upstream.closeAllConnections()
    await new Promise((resolve) => upstream.close(resolve))
  })

  const post = (body: unknown) =>
    fetch(gateway.url("/v1/chat/completions"), {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body)
    })

  it("forwards bodies and answers byte for byte over kept-alive connections", async () => {
    const request = { model: "m", messages: [{ role: "user", content: "Hi" }], tools: [], seed: 1 }
    for (let i = 0; i < 3; i++) {
      const response = await post(request)
      expect(response.status).toBe(200)
      expect(await response.text()).toBe(completion)
    }
    const streamed = await post({ ...request, stream: true, stream_options: { include_usage: true } })
    expect(await streamed.text()).toBe(stream)
    const calls = seen.filter((call) => call.body !== "")
    expect(calls.map((call) => JSON.parse(call.body))).toEqual([
      request,
      request,
      request,
      { ...request, stream: true, stream_options: { include_usage: true } }
    ])
    // Kept alive: the calls and the health probes (which share the pool, and may run beside a call)
    // went over at most two connections rather than one each; none of the headers `fetch` adds:
    // undici's pool sent them.
    expect(seen.length).toBeGreaterThanOrEqual(5)
    expect(new Set(seen.map((call) => call.socket)).size).toBeLessThanOrEqual(2)
    expect(calls.every((call) => call.headers["sec-fetch-mode"] === undefined)).toBe(true)
  })

  it("cancels the upstream request when the client goes away mid-stream", async () => {
    const controller = new AbortController()
    const response = await fetch(gateway.url("/v1/chat/completions"), {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hang" }], stream: true }),
      signal: controller.signal
    })
    const reader = response.body!.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('"content":"Hi"')
    controller.abort()
    for (let tries = 0; tries < 100 && !hangingClosed; tries++) await new Promise((r) => setTimeout(r, 20))
    expect(hangingClosed).toBe(true)
  })
})
