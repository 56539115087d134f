import { Context, Effect, Exit, Layer, References, Scope } from "effect"
import { HttpServer, HttpServerRequest, HttpServerResponse } from "effect/http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import exampleCatalog from "../../../examples/catalog.json" with { type: "json" }
import * as ApiKeyFormat from "../src/access/domain/ApiKeyFormat.ts"
import * as KeyHash from "../src/access/domain/KeyHash.ts"
import * as Gateway from "../src/Gateway.ts"
import type { Answer, RequestHead } from "../src/http/DirectLane.ts"
import { memoryPorts } from "../src/testing/index.ts"

/**
 * The direct lane against the complete lane: every request the direct lane answers gets the same
 * status, headers and body from the complete lane, and every request it cannot settle before its
 * side effects is left to the complete lane.
 */
const adminKey = "test-admin-key-0123456789abcdef0123"
const readerKey = ApiKeyFormat.generate()
const outsiderKey = ApiKeyFormat.generate()

let lanes: Gateway.Lanes["Service"]
const scope = Scope.makeUnsafe()
beforeAll(async () => {
  const secret = await KeyHash.importSecret(adminKey)
  const stored = async (
    name: string,
    key: string,
    permissions: ReadonlyArray<string>,
    allowedProjects?: Array<string>
  ) => ({
    name,
    hash: await KeyHash.hash(secret, key),
    last4: key.slice(-4),
    permissions,
    ...(allowedProjects === undefined ? {} : { allowedProjects }),
    rateLimit: 1_000_000,
    createdAt: "2026-01-01T00:00:00Z",
    isActive: true
  })
  const keys = [
    await stored("reader", readerKey, ["canReadProjects", "canReadVersions", "canCheckUpdates"]),
    // Sees only csviewer, and may not check updates.
    await stored("outsider", outsiderKey, ["canReadProjects"], ["csviewer"])
  ]
  const context = await Effect.runPromise(
    Layer.buildWithScope(
      Gateway.layerApp.pipe(
        Layer.provide(
          memoryPorts({
            catalog: exampleCatalog,
            env: { API_KEY_ADMIN: adminKey, CORS_ORIGINS: "https://app.example", RATE_LIMIT_IP_MAX: "1000000" },
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
  // The first request of a key takes the complete lane, which verifies it and fills the key cache.
  for (const key of [readerKey, outsiderKey, adminKey]) await complete(head("/projects", key))
})
afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))

const head = (url: string, key?: string, headers: Record<string, string> = {}): RequestHead => ({
  method: "GET",
  url,
  headers: { host: "gateway.test", ...(key === undefined ? {} : { authorization: `Bearer ${key}` }), ...headers },
  remoteAddress: "127.0.0.1"
})

interface Seen {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: unknown
}

// What differs between two answers by design: the request id, the time, and the tokens the first one used.
const varying = new Set(["x-request-id", "x-ratelimit-remaining", "x-ratelimit-reset", "ratelimit", "date"])
const comparable = (status: number, headers: Record<string, string>, text: string): Seen => {
  const kept = Object.fromEntries(Object.entries(headers).filter(([name]) => !varying.has(name)))
  const body = text === "" ? undefined : JSON.parse(text)
  if (body?.error !== undefined) body.error.request_id = "-"
  if (typeof body?.timestamp === "string") body.timestamp = "-"
  return { status, headers: kept, body }
}

const complete = async (request: RequestHead): Promise<Seen> => {
  const web = new Request(`http://gateway.test${request.url}`, { headers: request.headers as Record<string, string> })
  const response = await Effect.runPromise(
    Effect.provideService(lanes.complete, HttpServerRequest.HttpServerRequest, HttpServerRequest.fromWeb(web))
  )
  const webResponse = HttpServerResponse.toWeb(response)
  return comparable(response.status, Object.fromEntries(webResponse.headers), await webResponse.text())
}

const direct = async (request: RequestHead): Promise<Seen | undefined> => {
  const served = lanes.direct(request)
  if (served === undefined) return undefined
  const answer: Answer = Effect.isEffect(served) ? await Effect.runPromise(served) : served
  const headers: Record<string, string> = { ...answer.headers }
  if (answer.contentType !== undefined) headers["content-type"] = answer.contentType
  if (answer.body !== undefined) headers["content-length"] = String(new TextEncoder().encode(answer.body).length)
  return comparable(answer.status, headers, answer.body ?? "")
}

const update = "/projects/trackly/channels/stable/update"

describe("the direct lane", () => {
  const served: ReadonlyArray<[string, RequestHead]> = [
    [
      "an update check with an update",
      head(`${update}?current_version=1.0.0&platform=windows&architecture=x64`, readerKey)
    ],
    [
      "an update check without one",
      head(`${update}?current_version=9.0.0&platform=windows&architecture=x64`, readerKey)
    ],
    [
      "an update check under /api/v2",
      head(`/api/v2${update}?current_version=1.0.0&platform=linux&architecture=x64`, readerKey)
    ],
    [
      "an update check placing a client in a rollout",
      head(`${update}?current_version=1.0.0&platform=windows&architecture=x64&client_id=device-7`, readerKey)
    ],
    [
      "an update check placing a client by its X-Client-Id",
      head(`${update}?current_version=1.0.0&platform=windows&architecture=x64`, readerKey, {
        "x-client-id": "device-7"
      })
    ],
    [
      "an update check from an allowed origin",
      head(`${update}?current_version=1.0.0&platform=windows&architecture=x64`, readerKey, {
        origin: "https://app.example"
      })
    ],
    [
      "an update check from another origin",
      head(`${update}?current_version=1.0.0&platform=windows&architecture=x64`, readerKey, {
        origin: "https://evil.example"
      })
    ],
    ["an invalid current version", head(`${update}?current_version=one&platform=windows&architecture=x64`, readerKey)],
    [
      "an unknown project",
      head("/projects/nope/channels/stable/update?current_version=1.0.0&platform=windows&architecture=x64", readerKey)
    ],
    [
      "an unknown channel",
      head(
        "/projects/trackly/channels/nightly/update?current_version=1.0.0&platform=windows&architecture=x64",
        readerKey
      )
    ],
    ["a project the key may not see", head("/projects/trackly", outsiderKey)],
    ["the project list of a restricted key", head("/projects", outsiderKey)],
    ["the project list", head("/projects?page=1&per_page=2", readerKey)],
    ["a project", head("/projects/trackly", readerKey)],
    ["a project with the admin key", head("/projects/trackly", adminKey)],
    ["a channel's versions", head("/projects/trackly/channels/stable/versions?sort=asc", readerKey)],
    ["a channel's latest version", head("/projects/trackly/channels/stable/latest", readerKey)],
    ["a version", head("/projects/trackly/channels/stable/versions/1.2.5", readerKey)],
    ["a missing version", head("/projects/trackly/channels/stable/versions/7.7.7", readerKey)],
    ["/health", head("/health")],
    ["/health with a key", head("/health", readerKey)],
    ["/health/live", head("/health/live")],
    ["/health/ready", head("/health/ready")]
  ]
  it.each(served)("answers %s as the complete lane does", async (_name, request) => {
    const fromDirect = await direct(request)
    expect(fromDirect).toBeDefined()
    expect(fromDirect).toEqual(await complete(request))
  })

  it("answers 304 to a client whose ETag is current, as the complete lane does", async () => {
    const first = await direct(head("/projects/trackly", readerKey))
    const etag = first!.headers.etag!
    const revalidation = head("/projects/trackly", readerKey, { "if-none-match": etag })
    const fromDirect = await direct(revalidation)
    expect(fromDirect?.status).toBe(304)
    expect(fromDirect).toEqual(await complete(revalidation))
  })

  const left: ReadonlyArray<[string, RequestHead]> = [
    ["no key", head("/projects/trackly")],
    ["an unknown key", head("/projects/trackly", ApiKeyFormat.generate())],
    [
      "a key without the permission",
      head(`${update}?current_version=1.0.0&platform=windows&architecture=x64`, outsiderKey)
    ],
    [
      "a query that does not decode",
      head(`${update}?current_version=1.0.0&platform=amiga&architecture=x64`, readerKey)
    ],
    // The header decoded in its own right, not taken from an earlier request's decoding.
    [
      "an empty X-Client-Id",
      head(`${update}?current_version=1.0.0&platform=windows&architecture=x64`, readerKey, { "x-client-id": "" })
    ],
    ["a HEAD request", { ...head("/projects/trackly", readerKey), method: "HEAD" }],
    ["a body", head("/projects/trackly", readerKey, { "content-length": "5" })],
    [
      "an endpoint not marked Direct",
      head("/projects/trackly/channels/stable/versions/1.2.5/builds/x/download", readerKey)
    ],
    ["an unknown path", head("/nowhere", readerKey)],
    ["an absolute-form target", { ...head("/projects", readerKey), url: "http://gateway.test/projects" }]
  ]
  it.each(left)("leaves %s to the complete lane, before any effect, every time", (_name, request) => {
    expect(lanes.direct(request)).toBeUndefined()
    // Decodings are remembered: a refused input stays refused.
    expect(lanes.direct(request)).toBeUndefined()
  })
})
