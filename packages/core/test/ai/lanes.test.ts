import { Context, Effect, Exit, Layer, References, Scope } from "effect"
import { HttpServer, HttpServerRequest, HttpServerResponse } from "effect/http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import exampleCatalog from "../../../../examples/catalog.json" with { type: "json" }
import * as ApiKeyFormat from "../../src/access/domain/ApiKeyFormat.ts"
import * as KeyHash from "../../src/access/domain/KeyHash.ts"
import { isStreamed } from "../../src/ai/http/AiLane.ts"
import * as Gateway from "../../src/Gateway.ts"
import type { RequestHead } from "../../src/http/DirectLane.ts"
import { memoryPorts } from "../../src/testing/index.ts"
import {
  firstEvents,
  openAiCompletion,
  openAiError,
  openAiModels,
  openAiStream,
  type Reply,
  sse,
  startUpstream,
  type Upstream
} from "./fakes.ts"
import { adminKey, openAiEnv } from "./support.ts"

/**
 * The AI lane against the complete lane: every `/v1/chat/completions` request the AI lane answers
 * gets the same status, headers and body (streamed or not) from the complete lane, and every
 * request it cannot settle from its head is left to the complete lane, untouched.
 */
const aiKey = ApiKeyFormat.generate()
const readerKey = ApiKeyFormat.generate()
const scarceKey = ApiKeyFormat.generate()

let lanes: Gateway.Lanes["Service"]
let upstream: Upstream
const scope = Scope.makeUnsafe()
beforeAll(async () => {
  upstream = await startUpstream()
  upstream.on("/v1/models", openAiModels("gpt-test"))
  const secret = await KeyHash.importSecret(adminKey)
  const stored = async (name: string, key: string, permissions: ReadonlyArray<string>, rateLimit = 1_000_000) => ({
    name,
    hash: await KeyHash.hash(secret, key),
    last4: key.slice(-4),
    permissions,
    rateLimit,
    createdAt: "2026-01-01T00:00:00Z",
    isActive: true
  })
  const keys = [
    await stored("ai-app", aiKey, ["canUseAI"]),
    await stored("reader", readerKey, ["canReadProjects"]),
    // Two requests per window: one to fill the key cache, one answered by the AI lane.
    await stored("scarce", scarceKey, ["canUseAI"], 2)
  ]
  const context = await Effect.runPromise(
    Layer.buildWithScope(
      Gateway.layerApp.pipe(
        Layer.provide(
          memoryPorts({
            catalog: exampleCatalog,
            env: {
              API_KEY_ADMIN: adminKey,
              CORS_ORIGINS: "https://app.example",
              RATE_LIMIT_IP_MAX: "1000000",
              RATE_LIMIT_AI_MAX: "1000000",
              MAX_BODY_BYTES: "4096",
              ...openAiEnv(upstream.url)
            },
            keys: keys as never
          })
        ),
        Layer.provide(HttpServer.layerServices),
        Layer.provide(Layer.succeed(References.MinimumLogLevel, "None"))
      ),
      scope
    )
  )
  lanes = Context.get(context, Gateway.Lanes)
  // A key's first request takes the complete lane, which verifies it and fills the key cache; the
  // first AI request waits for the providers' first health probe.
  upstream.on("/v1/chat/completions", openAiCompletion("warm"))
  for (const key of [aiKey, readerKey, scarceKey]) await complete(post(key, { model: "gpt-test", messages: [] }))
  await complete(post(aiKey, { model: "gpt-test", messages: [{ role: "user", content: "hi" }] }))
})
afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  await upstream.close()
})

interface Sent extends RequestHead {
  readonly body: string
}

const post = (
  key: string | undefined,
  body: unknown,
  headers: Record<string, string> = {},
  url = "/v1/chat/completions"
): Sent => ({
  method: "POST",
  url,
  headers: {
    host: "gateway.test",
    "content-type": "application/json",
    ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    ...headers
  },
  remoteAddress: "127.0.0.1",
  body: typeof body === "string" ? body : JSON.stringify(body)
})

interface Seen {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

// What differs between two answers by design: the request id, the time, the tokens the first used.
const varying = new Set(["x-request-id", "x-ratelimit-remaining", "x-ratelimit-reset", "ratelimit", "date"])
const comparable = (status: number, headers: Record<string, string>, body: string): Seen => ({
  status,
  headers: Object.fromEntries(Object.entries(headers).filter(([name]) => !varying.has(name))),
  body: body.replace(/req_[a-z0-9]+/g, "req_-")
})

const complete = async (request: Sent): Promise<Seen> => {
  const web = new Request(`http://gateway.test${request.url}`, {
    method: request.method,
    headers: request.headers as Record<string, string>,
    body: request.body
  })
  const response = await Effect.runPromise(
    Effect.provideService(lanes.complete, HttpServerRequest.HttpServerRequest, HttpServerRequest.fromWeb(web))
  )
  const webResponse = HttpServerResponse.toWeb(response)
  const headers = Object.fromEntries(webResponse.headers)
  delete headers["content-length"]
  return comparable(response.status, headers, await webResponse.text())
}

const viaAiLane = async (request: Sent): Promise<Seen | undefined> => {
  let read = false
  const served = lanes.ai?.(
    request,
    async (maxBytes) => {
      read = true
      return new TextEncoder().encode(request.body).length > maxBytes ? undefined : request.body
    },
    new AbortController().signal
  )
  if (served === undefined) {
    expect(read, "a request the lane leaves must keep its body unread").toBe(false)
    return undefined
  }
  const answer = await served
  const headers: Record<string, string> = { ...answer.headers }
  if (answer.contentType !== undefined) headers["content-type"] = answer.contentType
  if (!isStreamed(answer)) return comparable(answer.status, headers, answer.body ?? "")
  let body = answer.head
  for (let events = await answer.next(); events !== undefined; events = await answer.next()) body += events
  return comparable(answer.status, headers, body)
}

const message = { role: "user", content: "Say hello" }
const chat = { model: "gpt-test", messages: [message] }
const tools = [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }]

describe("the AI lane", () => {
  const served: ReadonlyArray<[string, Reply, Sent]> = [
    ["a whole completion", openAiCompletion("Hello there"), post(aiKey, chat)],
    ["a completion with tools and unknown fields", openAiCompletion("ok"), post(aiKey, { ...chat, tools, seed: 7 })],
    [
      "a stream whose client asked for usage",
      sse(openAiStream(["Hel", "lo"])),
      post(aiKey, { ...chat, stream: true, stream_options: { include_usage: true } })
    ],
    [
      "a stream without the usage chunk its client did not ask for",
      sse(openAiStream(["Hi"])),
      post(aiKey, { ...chat, stream: true })
    ],
    [
      "a stream cut before it finished",
      sse(firstEvents(openAiStream(["a", "b", "c"]), 3)),
      post(aiKey, { ...chat, stream: true })
    ],
    [
      "a stream with an error event after its first token",
      sse([
        ...firstEvents(openAiStream(["a"]), 2),
        { data: { error: { message: "overloaded", type: "server_error" } } }
      ]),
      post(aiKey, { ...chat, stream: true })
    ],
    [
      "a field the host refuses",
      openAiError(400, "Unknown parameter: 'bogus'", "invalid_request_error"),
      post(aiKey, chat)
    ],
    ["a model no provider serves", openAiCompletion("unused"), post(aiKey, { ...chat, model: "not-served" })],
    ["an answer under /api/v2", openAiCompletion("v2"), post(aiKey, chat, {}, "/api/v2/v1/chat/completions")],
    ["an answer to an allowed origin", openAiCompletion("cors"), post(aiKey, chat, { origin: "https://app.example" })],
    [
      "a request id the client chose",
      openAiCompletion("id"),
      post(aiKey, chat, { "x-request-id": "client-chosen-42" })
    ],
    ["a body that is not JSON", openAiCompletion("unused"), post(aiKey, "{not json")],
    ["an empty body", openAiCompletion("unused"), post(aiKey, "")],
    ["a body that is not an object", openAiCompletion("unused"), post(aiKey, [])],
    ["a body without messages", openAiCompletion("unused"), post(aiKey, { model: "gpt-test" })],
    ["a body with an empty model", openAiCompletion("unused"), post(aiKey, { ...chat, model: "" })],
    ["a stream flag that is not a boolean", openAiCompletion("unused"), post(aiKey, { ...chat, stream: "yes" })],
    [
      "a body over the size limit, sent without a length",
      openAiCompletion("unused"),
      post(aiKey, { ...chat, pad: "x".repeat(5000) })
    ]
  ]
  it.each(served)("answers %s as the complete lane does", async (_, reply, request) => {
    upstream.on("/v1/chat/completions", reply)
    const direct = await viaAiLane(request)
    expect(direct).toBeDefined()
    expect(direct).toEqual(await complete(request))
  })

  it("forwards the client's body byte for byte", async () => {
    upstream.on("/v1/chat/completions", openAiCompletion("ok"))
    upstream.received.length = 0
    const body = `{"messages":[{"role":"user","content":"h\\u00e9"}],  "model":"gpt-test","logit_bias":{"50256":-100}}`
    await viaAiLane(post(aiKey, body))
    expect(upstream.received).toHaveLength(1)
    expect(upstream.received[0]!.body).toEqual(JSON.parse(body))
    expect(upstream.received[0]!.headers.authorization).toBe("Bearer sk-upstream-secret")
  })

  const left: ReadonlyArray<[string, Sent]> = [
    ["no key", post(undefined, chat)],
    ["an unknown key", post(ApiKeyFormat.generate(), chat)],
    ["a key without canUseAI", post(readerKey, chat)],
    ["a body that is not declared JSON", post(aiKey, chat, { "content-type": "text/plain" })],
    ["a declared length over the limit", post(aiKey, chat, { "content-length": "5000" })],
    ["another AI route", post(aiKey, { model: "gpt-test", input: "x" }, {}, "/v1/embeddings")],
    ["a query string", post(aiKey, chat, {}, "/v1/chat/completions?x=1")],
    ["another method", { ...post(aiKey, chat), method: "PUT" }]
  ]
  it.each(left)("leaves %s to the complete lane", async (_, request) => {
    expect(await viaAiLane(request)).toBeUndefined()
  })

  it("refuses a key over its limit before reading the body or calling the upstream", async () => {
    upstream.on("/v1/chat/completions", openAiCompletion("ok"))
    upstream.received.length = 0
    expect((await viaAiLane(post(scarceKey, chat)))?.status).toBe(200)
    let read = false
    const served = lanes.ai?.(
      post(scarceKey, chat),
      async () => {
        read = true
        return JSON.stringify(chat)
      },
      new AbortController().signal
    )
    const answer = await served
    expect(answer?.status).toBe(429)
    expect(answer !== undefined && !isStreamed(answer) && JSON.parse(answer.body!).error.details.policy).toBe("key")
    expect(answer?.headers["retry-after"]).toMatch(/^\d+$/)
    expect(read).toBe(false)
    expect(upstream.received).toHaveLength(1)
  })

  it("cancels the upstream request when the client leaves mid-stream", async () => {
    upstream.on("/v1/chat/completions", sse(openAiStream(["a", "b", "c", "d"], { delayMs: 100 }), { end: "hang" }))
    upstream.received.length = 0
    const answer = await lanes.ai?.(
      post(aiKey, { ...chat, stream: true }),
      async () => JSON.stringify({ ...chat, stream: true }),
      new AbortController().signal
    )
    if (answer === undefined || !isStreamed(answer)) throw new Error("expected the AI lane to stream the answer")
    answer.cancel()
    const deadline = Date.now() + 2000
    while (!upstream.received[0]?.aborted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(upstream.received[0]?.aborted).toBe(true)
  })

  it("answers a client that left before the answer without waiting for the upstream", async () => {
    upstream.on("/v1/chat/completions", async (_, response) => {
      await new Promise((r) => setTimeout(r, 5000))
      response.end()
    })
    upstream.received.length = 0
    const controller = new AbortController()
    const served = lanes.ai!(post(aiKey, chat), async () => JSON.stringify(chat), controller.signal)!
    setTimeout(() => controller.abort(), 50)
    const started = Date.now()
    await served
    expect(Date.now() - started).toBeLessThan(2000)
  })
})
