import { randomBytes } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { json, openAiCompletion, openAiModels, startUpstream, type Upstream } from "../../../core/test/ai/fakes.ts"
import { startFakeGitHub } from "../../../core/test/github/FakeGitHub.ts"
import { adminKey, auth, type RunningGateway, startGateway } from "../support/gateway.ts"
import { type ReceivedSpan, startOtlpReceiver } from "../support/otlp.ts"
import { waitFor } from "../support/process.ts"

const upstreamKey = "sk-upstream-secret-0123456789"

let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>
let local: Upstream
let remote: Upstream
let gateway: RunningGateway
let github: Awaited<ReturnType<typeof startFakeGitHub>>

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  github = await startFakeGitHub()
  github.release("lunarbit/notes", {
    tag: "v1.0.0",
    publishedAt: "2026-01-05T00:00:00Z",
    assets: [{ name: "notes-1.0.0-win-x64.exe", content: "MZ windows build" }]
  })
  local = await startUpstream()
  remote = await startUpstream()
  local.on("/v1/models", openAiModels("llama-test"))
  remote.on("/v1/models", openAiModels("gpt-test"))
  gateway = await startGateway({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: "50",
    OTEL_SERVICE_NAME: "gateway-under-test",
    LMSTUDIO_ENABLED: "true",
    LMSTUDIO_BASE_URL: local.url,
    OPENAI_ENABLED: "true",
    OPENAI_API_KEY: upstreamKey,
    OPENAI_BASE_URL: `${remote.url}/v1`,
    OPENAI_MODEL: "gpt-test",
    GITHUB_API_URL: github.url,
    GITHUB_PROJECTS: JSON.stringify([{ id: "notes", name: "Notes", repository: "lunarbit/notes" }])
  })
})
afterAll(async () => {
  await gateway?.close()
  await Promise.all([local?.close(), remote?.close(), receiver?.close(), github?.close()])
})

const hex = (bytes: number) => randomBytes(bytes).toString("hex")

/** The spans of `traceId` once `names` have all arrived. */
const traceOf = async (traceId: string, names: ReadonlyArray<string>) => {
  const spans = () => receiver.spans.filter((span) => span.traceId === traceId)
  await waitFor(() => names.every((name) => spans().some((span) => span.name === name)), 10_000)
  return spans()
}

const childrenOf = (spans: ReadonlyArray<ReceivedSpan>, spanId: string) =>
  spans.filter((span) => span.parentSpanId === spanId)

describe("traces", () => {
  it("follow one AI request that fails over, from the caller's traceparent to each upstream", async () => {
    local.on("/v1/chat/completions", json({ error: { message: "overloaded", type: "server_error" } }, 500))
    remote.on("/v1/chat/completions", openAiCompletion("Semantic versioning is..."))
    const traceId = hex(16)
    const callerSpan = hex(8)
    const response = await fetch(gateway.url("/ai/chat"), {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", traceparent: `00-${traceId}-${callerSpan}-01` },
      body: JSON.stringify({ messages: [{ role: "user", content: "Explain semantic versioning" }] })
    })
    expect(response.status).toBe(200)

    const spans = await traceOf(traceId, ["HTTP POST", "gateway.handler", "ai.attempt", "gateway.authenticate"])
    const server = spans.find((span) => span.name === "HTTP POST")!
    // The gateway's request span continues the caller's trace, as a server span (kind 2).
    expect(server).toMatchObject({ parentSpanId: callerSpan, kind: 2, serviceName: "gateway-under-test" })
    expect(server.attributes).toMatchObject({ "http.request.method": "POST", "http.response.status_code": 200 })
    const steps = childrenOf(spans, server.spanId).map((span) => span.name)
    expect(steps).toEqual(expect.arrayContaining(["gateway.authenticate", "gateway.rate_limit", "gateway.handler"]))
    const handler = spans.find((span) => span.name === "gateway.handler")!
    expect(handler.attributes["http.route"]).toBe("/ai/chat")

    // Two attempts under the handler: LM Studio's failed, OpenAI's answered.
    const attempts = spans.filter((span) => span.name === "ai.attempt")
    expect(attempts.map((span) => span.attributes["ai.provider"]).sort()).toEqual(["lmstudio", "openai"])
    const isUnder = (spanId: string | undefined, ancestor: string): boolean => {
      const span = spans.find((candidate) => candidate.spanId === spanId)
      return span !== undefined && (span.spanId === ancestor || isUnder(span.parentSpanId, ancestor))
    }
    for (const attempt of attempts) expect(isUnder(attempt.spanId, handler.spanId)).toBe(true)
    const failed = attempts.find((span) => span.attributes["ai.provider"] === "lmstudio")!
    expect(failed.status?.code).toBe(2)

    // Each upstream heard the trace, with its own attempt's span as the parent.
    const heard = (upstream: Upstream) =>
      upstream.received.filter((r) => r.path.startsWith("/v1/chat/completions")).at(-1)!.headers.traceparent
    for (const [upstream, provider] of [
      [local, "lmstudio"],
      [remote, "openai"]
    ] as const) {
      const [, trace, parent] = String(heard(upstream)).split("-")
      expect(trace).toBe(traceId)
      const attempt = attempts.find((span) => span.attributes["ai.provider"] === provider)!
      expect(isUnder(parent, attempt.spanId)).toBe(true)
    }
  })

  it("follow one update check through the edge's steps, and start a trace when the caller sent none", async () => {
    const response = await fetch(
      gateway.url("/projects/trackly/channels/stable/update?current_version=1.1.0&platform=windows&architecture=x64"),
      { headers: auth }
    )
    expect(response.status).toBe(200)
    await waitFor(() =>
      receiver.spans.some(
        (span) =>
          span.name === "gateway.handler" &&
          span.attributes["http.route"] === "/projects/:projectId/channels/:channelId/update"
      )
    )
    const handler = receiver.spans.find(
      (span) => span.attributes["http.route"] === "/projects/:projectId/channels/:channelId/update"
    )!
    const spans = await traceOf(handler.traceId, ["HTTP GET", "gateway.rate_limit", "store.rollouts.forChannel"])
    const server = spans.find((span) => span.name === "HTTP GET")!
    expect(server.parentSpanId).toBeUndefined()
    expect(server.attributes["url.path"]).toBe("/projects/trackly/channels/stable/update")
    expect(childrenOf(spans, server.spanId).map((span) => span.name)).toEqual(
      expect.arrayContaining(["gateway.authenticate", "gateway.rate_limit", "gateway.handler"])
    )
    // The handler's store call (the channel's rollout states) is its child.
    const handlerSpan = spans.find((span) => span.name === "gateway.handler")!
    expect(childrenOf(spans, handlerSpan.spanId)).toContainEqual(
      expect.objectContaining({ name: "store.rollouts.forChannel", attributes: { "gateway.store": "rollouts" } })
    )
  })

  it("reach GitHub: each release request sends the traceparent of its own exported span", async () => {
    await waitFor(() => github.requests.some((request) => request.path.startsWith("/repos/lunarbit/notes/releases")))
    const request = github.requests.find((candidate) => candidate.path.startsWith("/repos/lunarbit/notes/releases"))!
    const [version, traceId, spanId, flags] = String(request.traceparent).split("-")
    expect([version, flags]).toEqual(["00", "01"])
    await waitFor(() => receiver.spans.some((span) => span.spanId === spanId))
    expect(receiver.spans.find((span) => span.spanId === spanId)).toMatchObject({
      traceId,
      name: "github.request",
      kind: 3,
      attributes: { "github.repository": "lunarbit/notes" }
    })
  })

  it("carry no secret in any span: not the admin key, the upstream key, nor a key sent in a header, query or path", async () => {
    const refused = `lbapi_${hex(20)}`
    await fetch(gateway.url("/projects"), { headers: { authorization: `Bearer ${refused}` } })
    await fetch(gateway.url(`/projects?api_key=${refused}`))
    await fetch(gateway.url(`/projects/${refused}`), { headers: auth })
    await waitFor(() => receiver.bodies.some((body) => body.includes('"HTTP GET"')))
    await new Promise((resolve) => setTimeout(resolve, 200))
    const everything = receiver.bodies.join("\n")
    for (const secret of [adminKey, upstreamKey, refused]) expect(everything).not.toContain(secret)
  })
})

describe("a collector that cannot be reached", () => {
  it("costs the requests nothing: they are answered as quickly as ever", async () => {
    // A port that was free a moment ago: connections to it are refused.
    const closed = await startOtlpReceiver()
    await closed.close()
    const unreachable = await startGateway({ OTEL_EXPORTER_OTLP_ENDPOINT: closed.url, OTEL_BSP_SCHEDULE_DELAY: "10" })
    try {
      for (let i = 0; i < 20; i++) {
        const started = performance.now()
        const response = await fetch(unreachable.url("/projects"), { headers: auth })
        expect(response.status).toBe(200)
        await response.arrayBuffer()
        expect(performance.now() - started).toBeLessThan(1_000)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    } finally {
      await unreachable.close()
    }
  }, 30_000)
})

describe("head sampling", () => {
  it("traces the configured share of requests, and always follows the caller's decision", async () => {
    const sampled = await startGateway({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: "50",
      OTEL_SERVICE_NAME: "sampled-gateway",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0"
    })
    try {
      // A share of 0: requests whose caller did not decide are not traced.
      for (let i = 0; i < 5; i++) expect((await fetch(sampled.url("/projects"), { headers: auth })).status).toBe(200)
      const refused = hex(16)
      await fetch(sampled.url("/projects"), { headers: { ...auth, traceparent: `00-${refused}-${hex(8)}-00` } })
      const kept = hex(16)
      await fetch(sampled.url("/projects"), { headers: { ...auth, traceparent: `00-${kept}-${hex(8)}-01` } })
      await traceOf(kept, ["HTTP GET", "gateway.handler"])
      // Spans leave in the order they end: had the earlier requests been traced, they would be here.
      const traces = new Set(
        receiver.spans.filter((span) => span.serviceName === "sampled-gateway").map((span) => span.traceId)
      )
      expect([...traces]).toEqual([kept])
    } finally {
      await sampled.close()
    }
  })
})
