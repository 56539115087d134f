import { Effect } from "effect"
import { FetchHttpClient } from "effect/http"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { ApiClient, createClient, GatewayClientError } from "../../src/client/index.ts"
import {
  firstEvents,
  openAiCompletion,
  openAiModels,
  openAiStream,
  sse,
  startUpstream,
  type Upstream
} from "../ai/fakes.ts"
import { adminKey, type ServedGateway, serveGateway } from "../ai/support.ts"

/** A `fetch` that records each exchange, so tests see what the client sent and what it got. */
const recording = () => {
  const exchanges: Array<{ method: string; path: string; ifNoneMatch: string | null; status: number }> = []
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init)
    const response = await globalThis.fetch(request)
    exchanges.push({
      method: request.method,
      path: new URL(request.url).pathname,
      ifNoneMatch: request.headers.get("if-none-match"),
      status: response.status
    })
    return response
  }
  return { fetch, exchanges }
}

const rejection = async (promise: Promise<unknown>): Promise<GatewayClientError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(GatewayClientError)
  return error as GatewayClientError
}

const windowsQuery = { current_version: "1.1.0", platform: "windows", architecture: "x64" } as const

/** The Promise client against the whole gateway served over loopback, with an AI upstream speaking OpenAI's wire. */
describe("createClient", () => {
  let upstream: Upstream
  let gateway: ServedGateway

  beforeAll(async () => {
    upstream = await startUpstream()
    gateway = await serveGateway({ LMSTUDIO_ENABLED: "true", LMSTUDIO_BASE_URL: upstream.url })
  })

  afterAll(async () => {
    await gateway.close()
    await upstream.close()
  })

  beforeEach(() => upstream.on("/v1/models", openAiModels("llama-test")))

  const client = (options: { apiKey?: string; fetch?: typeof globalThis.fetch; maxDelayMs?: number } = {}) =>
    createClient({
      baseUrl: gateway.url(""),
      apiKey: options.apiKey ?? adminKey,
      fetch: options.fetch,
      retry: { maxDelayMs: options.maxDelayMs }
    })

  it("reads the catalog and checks for updates, with the schemas' types", async () => {
    const gatewayClient = client()
    expect((await gatewayClient.health()).status).toBe("healthy")
    const projects = await gatewayClient.projects.list()
    expect(projects.projects.map((p) => p.id)).toContain("trackly")
    expect((await gatewayClient.projects.get("trackly")).id).toBe("trackly")
    const update = await gatewayClient.updates.check("trackly", "stable", windowsQuery)
    if (!update.update_available) throw new Error("expected an update for 1.1.0")
    expect(update.current_version).toBe("1.1.0")
    expect(update.download_url).toMatch(/^https:\/\//)
  })

  it("checks the launcher and the installed applications in one call", async () => {
    const answer = await client().launcher.check({
      client: { launcher_version: "0.0.1", os: "windows", architecture: "x64" },
      installed: [{ project_id: "trackly", version: "1.1.0", channel: "stable" }]
    })
    expect(answer.project_updates.map((u) => u.project_id)).toEqual(["trackly"])
  })

  it("revalidates catalog reads with their ETag and answers a 304 from its copy", async () => {
    const { fetch, exchanges } = recording()
    const gatewayClient = client({ fetch })
    const first = await gatewayClient.projects.list()
    const second = await gatewayClient.projects.list()
    expect(second).toEqual(first)
    expect(exchanges.map((e) => e.status)).toEqual([200, 304])
    expect(exchanges[0]!.ifNoneMatch).toBeNull()
    expect(exchanges[1]!.ifNoneMatch).toMatch(/^(W\/)?"/)
  })

  it("throws the envelope's code, status and request id as a GatewayClientError", async () => {
    const missing = await rejection(client().projects.get("nonexistent"))
    expect(missing).toMatchObject({ status: 404, code: "PROJECT_NOT_FOUND" })
    expect(missing.requestId).toMatch(/^req_/)
    expect(missing.documentationUrl).toContain("#PROJECT_NOT_FOUND")

    const anonymous = await rejection(createClient({ baseUrl: gateway.url("") }).projects.list())
    expect(anonymous).toMatchObject({ status: 401, code: "UNAUTHORIZED" })
  })

  it("reports a gateway it cannot reach as NETWORK_ERROR", async () => {
    const unreachable = createClient({ baseUrl: "http://127.0.0.1:1", apiKey: adminKey })
    expect(await rejection(unreachable.health())).toMatchObject({ status: 0, code: "NETWORK_ERROR" })
  })

  it("creates a key that works at once, and revokes it", async () => {
    const created = await client().keys.create({
      name: "client-test",
      permissions: { canReadProjects: true, canCheckUpdates: true }
    })
    const withNewKey = client({ apiKey: created.key })
    expect((await withNewKey.projects.list()).projects.length).toBeGreaterThan(0)
    await client().keys.revoke("client-test")
    expect(await rejection(withNewKey.projects.list())).toMatchObject({ status: 401, code: "UNAUTHORIZED" })
  })

  it("answers a chat, and streams one as an async iterator", async () => {
    upstream.on("/v1/chat/completions", openAiCompletion("MAJOR.MINOR.PATCH", { model: "llama-test" }))
    const messages = [{ role: "user" as const, content: "Explain semantic versioning" }]
    const answer = await client().ai.chat({ messages })
    expect(answer).toMatchObject({ response: "MAJOR.MINOR.PATCH", model: "llama-test" })

    upstream.on("/v1/chat/completions", sse(openAiStream(["Sem", "Ver"], { model: "llama-test" })))
    const events = []
    for await (const event of client().ai.chat({ messages, stream: true })) events.push(event)
    expect(events.slice(0, 2)).toEqual([{ content: "Sem" }, { content: "Ver" }])
    expect(events.at(-1)).toMatchObject({ model: "llama-test", finish_reason: "stop" })
  })

  it("throws from the iterator when the stream fails after its first token", async () => {
    upstream.on("/v1/chat/completions", sse(firstEvents(openAiStream(["Sem", "Ver"]), 2), { end: "drop" }))
    const received: Array<unknown> = []
    const failure = await rejection(
      (async () => {
        for await (const event of client().ai.chat({ messages: [{ role: "user", content: "hi" }], stream: true })) {
          received.push(event)
        }
      })()
    )
    expect(received).toEqual([{ content: "Sem" }])
    expect(failure.code).toBe("AI_STREAM_INTERRUPTED")
  })
})

/** Retries against a gateway whose per-key limit allows one request a second. */
describe("createClient when rate limited", () => {
  let gateway: ServedGateway

  beforeAll(async () => {
    gateway = await serveGateway({ RATE_LIMIT_KEY_MAX: "1", RATE_LIMIT_KEY_WINDOW: "1" })
  })

  afterAll(() => gateway.close())

  it("waits for Retry-After and sends the request again (revalidated, as the first answer had an ETag)", async () => {
    const { fetch, exchanges } = recording()
    const gatewayClient = createClient({ baseUrl: gateway.url(""), apiKey: adminKey, fetch })
    await gatewayClient.projects.get("trackly")
    const started = Date.now()
    expect((await gatewayClient.projects.get("trackly")).id).toBe("trackly")
    expect(exchanges.map((e) => e.status)).toEqual([200, 429, 304])
    expect(Date.now() - started).toBeGreaterThanOrEqual(500)
  })

  it("gives up at once when Retry-After is longer than it may wait, saying how long", async () => {
    const gatewayClient = createClient({ baseUrl: gateway.url(""), apiKey: adminKey, retry: { maxDelayMs: 0 } })
    await gatewayClient.projects.get("trackly").catch(() => undefined)
    const limited = await rejection(gatewayClient.projects.get("trackly"))
    expect(limited).toMatchObject({ status: 429, code: "RATE_LIMIT_EXCEEDED" })
    expect(limited.retryAfter).toBeGreaterThanOrEqual(1)
  })
})

/** The Effect client, derived from the `HttpApi`: the same transport, errors in the typed error channel. */
describe("ApiClient.make", () => {
  let gateway: ServedGateway

  beforeAll(async () => {
    gateway = await serveGateway({})
  })

  afterAll(() => gateway.close())

  const run = <A, E>(f: (client: ApiClient.Client) => Effect.Effect<A, E>) =>
    Effect.runPromise(
      ApiClient.make({ baseUrl: gateway.url("/api/v2"), apiKey: adminKey }).pipe(
        Effect.flatMap(f),
        Effect.provide(FetchHttpClient.layer)
      )
    )

  it("calls each endpoint by its group and name, under the /api/v2 prefix too", async () => {
    const latest = await run((client) =>
      client.projects.latestVersion({ params: { projectId: "trackly", channelId: "stable" } })
    )
    expect(latest.id).toMatch(/^\d+\.\d+\.\d+/)
  })

  it("fails with GatewayClientError in the error channel", async () => {
    const error = await run((client) =>
      client.projects.getProject({ params: { projectId: "nonexistent" } }).pipe(Effect.flip)
    )
    expect(error).toBeInstanceOf(GatewayClientError)
    expect(error).toMatchObject({ _tag: "GatewayClientError", code: "PROJECT_NOT_FOUND", status: 404 })
  })
})
