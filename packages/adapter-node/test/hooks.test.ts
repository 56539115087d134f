import { Errors, Hooks } from "@lunarbit/gateway-core"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { adminKey, auth, type RunningGateway, startGateway } from "./support/gateway.ts"

// The embedder's hooks over real HTTP: what they are told, how they refuse, and what their own
// failures do to the request and to the gateway.

const readKey = "hooks-test-read-key-0123456789abcdef"
const read = { authorization: `Bearer ${readKey}` }

let gateway: RunningGateway | undefined
afterEach(() => gateway?.close())

const start = async (hooks: Hooks.PromiseHooks) => {
  gateway = await startGateway({ API_KEY_READ: readKey }, { hooks })
  return gateway
}

const envelopeOf = async (response: Response) => {
  const body = (await response.json()) as { error: { code: string; request_id: string; message: string } }
  expect(body.error.request_id).toBe(response.headers.get("x-request-id"))
  return body.error
}

const hookFailures = (running: RunningGateway) =>
  running.logs.filter((line) => typeof line.msg === "string" && line.msg.includes("hook failed"))

describe("the onRequest and onResponse hooks", () => {
  it("tell the route, the request id and the principal's name and permissions, never the key", async () => {
    const requests: Array<Hooks.RequestFacts> = []
    const responses: Array<Hooks.ResponseFacts> = []
    const running = await start({ onRequest: (r) => void requests.push(r), onResponse: (r) => void responses.push(r) })

    const response = await fetch(running.url("/api/v2/projects/trackly?x=1"), { headers: read })
    expect(response.status).toBe(200)
    const requestId = response.headers.get("x-request-id")

    expect(requests).toEqual([
      {
        requestId,
        method: "GET",
        path: "/projects/trackly",
        route: "/projects/:projectId",
        principal: { name: "read", permissions: expect.arrayContaining(["canReadProjects"]), isAdmin: false }
      }
    ])
    expect(responses).toHaveLength(1)
    expect(responses[0]).toMatchObject({
      requestId,
      route: "/projects/:projectId",
      status: 200,
      principal: { name: "read" }
    })
    expect(responses[0]!.durationMs).toBeGreaterThan(0)
    expect(responses[0]!.durationMs).toBeLessThan(5000)
    const told = JSON.stringify([requests, responses])
    expect(told).not.toContain(readKey)
    expect(told).not.toContain(adminKey)
  })

  it("see public requests without a principal, and answers no endpoint gave (404, 401) without a route", async () => {
    const requests: Array<Hooks.RequestFacts> = []
    const responses: Array<Hooks.ResponseFacts> = []
    const running = await start({ onRequest: (r) => void requests.push(r), onResponse: (r) => void responses.push(r) })

    expect((await fetch(running.url("/health"))).status).toBe(200)
    expect((await fetch(running.url("/no/such/path"), { headers: auth })).status).toBe(404)
    expect(requests.map((r) => [r.route, r.principal])).toEqual([["/health", undefined]])
    expect(responses.map((r) => [r.status, r.route, r.principal?.name])).toEqual([
      [200, "/health", undefined],
      [404, undefined, "admin"]
    ])
  })

  it("run after the rate limits: a refused request reaches onResponse only, as a 429", async () => {
    const requests: Array<Hooks.RequestFacts> = []
    const responses: Array<Hooks.ResponseFacts> = []
    gateway = await startGateway(
      { API_KEY_READ: readKey, RATE_LIMIT_KEY_MAX: "1" },
      { hooks: { onRequest: (r) => void requests.push(r), onResponse: (r) => void responses.push(r) } }
    )
    expect((await fetch(gateway.url("/projects"), { headers: read })).status).toBe(200)
    expect((await fetch(gateway.url("/projects"), { headers: read })).status).toBe(429)
    expect(requests).toHaveLength(1)
    expect(responses.map((r) => [r.status, r.principal?.name])).toEqual([
      [200, "read"],
      [429, "read"]
    ])
  })

  it("cannot be skipped with a bogus credential: the hook still runs, without a principal", async () => {
    const requests: Array<Hooks.RequestFacts> = []
    const running = await start({ onRequest: (r) => void requests.push(r) })
    const response = await fetch(running.url("/health"), { headers: { authorization: "Bearer lbapi_forged" } })
    expect(response.status).toBe(200)
    expect(requests).toHaveLength(1)
    expect(requests[0]!.principal).toBeUndefined()
    expect(JSON.stringify(requests)).not.toContain("lbapi_forged")
  })

  it("refuse a request with the gateway's envelope when onRequest throws or rejects with a gateway error", async () => {
    const running = await start({
      onRequest: async (request) => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        if (request.principal?.name === "read") throw new Errors.Forbidden({ message: "Read keys are paused" })
      }
    })
    const refused = await fetch(running.url("/projects/trackly"), { headers: read })
    expect(refused.status).toBe(403)
    expect(await envelopeOf(refused)).toMatchObject({ code: "FORBIDDEN", message: "Read keys are paused" })
    // The async hook let the admin through after its delay.
    expect((await fetch(running.url("/projects/trackly"), { headers: auth })).status).toBe(200)
    expect(hookFailures(running)).toEqual([])
  })

  it("keep the endpoint from running when onRequest refuses", async () => {
    const running = await start({
      onRequest: (request) => {
        if (request.method === "POST") throw new Errors.Forbidden({ message: "No new keys today" })
      }
    })
    const created = await fetch(running.url("/admin/keys"), {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ name: "blocked", permissions: { canReadProjects: true } })
    })
    expect(created.status).toBe(403)
    const keys = (await (await fetch(running.url("/admin/keys"), { headers: auth })).json()) as {
      keys: Array<{ name: string }>
    }
    expect(keys.keys.map((key) => key.name)).not.toContain("blocked")
  })

  it.each([
    [
      "throws",
      () => {
        throw new Error("boom with lbapi_0123456789abcdefghij")
      }
    ],
    ["rejects", () => Promise.reject(new TypeError("async boom"))]
  ])("answer 500 once, log it with the request id and keep serving when onRequest %s", async (_, onRequest) => {
    let calls = 0
    const running = await start({
      onRequest: () => {
        calls += 1
        if (calls === 1) return onRequest()
      }
    })
    const failed = await fetch(running.url("/projects"), { headers: auth })
    expect(failed.status).toBe(500)
    const error = await envelopeOf(failed)
    expect(error.code).toBe("INTERNAL_ERROR")
    expect(JSON.stringify(error)).not.toContain("boom")

    const failures = hookFailures(running)
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatchObject({ request_id: error.request_id, hook: "onRequest" })
    // A credential-shaped value in the hook's own error is masked like any other log line's.
    expect(JSON.stringify(running.logs)).not.toContain("lbapi_0123456789abcdefghij")
    expect((await fetch(running.url("/projects"), { headers: auth })).status).toBe(200)
  })

  it.each([
    [
      "throws",
      () => {
        throw new Error("after boom")
      }
    ],
    ["rejects", () => Promise.reject(new Error("async after boom"))]
  ])("answer 500 instead of the decided response when onResponse %s, once", async (_, failure) => {
    const seen: Array<number> = []
    const running = await start({
      onResponse: (response) => {
        seen.push(response.status)
        if (seen.length === 1) return failure()
      }
    })
    const failed = await fetch(running.url("/projects/trackly"), { headers: auth })
    expect(failed.status).toBe(500)
    const error = await envelopeOf(failed)
    expect(error.code).toBe("INTERNAL_ERROR")
    expect(failed.headers.get("x-content-type-options")).toBe("nosniff")
    expect(hookFailures(running)).toMatchObject([{ request_id: error.request_id, hook: "onResponse" }])
    // The replaced answer is what the access log records, and the hook is not asked about it again.
    const access = running.logs.filter((line) => line.msg === "request" && line.request_id === error.request_id)
    expect(access).toMatchObject([{ status: 500 }])
    expect(seen).toEqual([200])

    expect((await fetch(running.url("/projects/trackly"), { headers: auth })).status).toBe(200)
    expect(seen).toEqual([200, 200])
  })
})

describe("the hooks as an Effect service", () => {
  it("refuse with a typed error, and a hook that dies answers 500 and leaves the gateway serving", async () => {
    const statuses: Array<number> = []
    gateway = await startGateway(
      {},
      {
        provide: Hooks.layer({
          onRequest: (request) =>
            request.path === "/projects/csviewer"
              ? Effect.fail(new Errors.Forbidden({ message: "csviewer is closed" }))
              : request.path === "/projects/lunarbit-launcher"
                ? Effect.die(new Error("hook defect"))
                : Effect.void,
          onResponse: (response) => Effect.sync(() => void statuses.push(response.status))
        })
      }
    )
    const running = gateway
    const refused = await fetch(running.url("/projects/csviewer"), { headers: auth })
    expect(await envelopeOf(refused)).toMatchObject({ code: "FORBIDDEN", message: "csviewer is closed" })
    const died = await fetch(running.url("/projects/lunarbit-launcher"), { headers: auth })
    expect((await envelopeOf(died)).code).toBe("INTERNAL_ERROR")
    expect((await fetch(running.url("/projects/trackly"), { headers: auth })).status).toBe(200)
    expect(statuses).toEqual([403, 500, 200])
    expect(hookFailures(running)).toHaveLength(1)
  })
})
