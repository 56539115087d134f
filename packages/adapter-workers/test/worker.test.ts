import { readFileSync } from "node:fs"
import { gzipSync } from "node:zlib"
import { Miniflare } from "miniflare"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { type RunningGateway, startGateway } from "../../adapter-node/test/support/gateway.ts"
import { type Exchange, expectSameAnswer, init, read } from "./answers.ts"
import { bundleWorker, wranglerSetting } from "./bundle.ts"
import { adminKey, gatewayEnv as env, exchanges } from "./exchanges.ts"

const catalogFile = new URL("../../../examples/catalog.json", import.meta.url)
const catalog = JSON.parse(readFileSync(catalogFile, "utf8")) as Record<string, unknown>

// One workerd process runs a Worker per binding set, each its own isolate with its own state,
// reached by its name as the host: http://<name>.gateway.test/... The gateway is deployed as
// wrangler.toml declares it, with its D1 database and rate-limit Durable Objects; "memory" has no
// storage bindings. (A catalog bound as text is checked in process, in WorkerHandler.test.ts: each
// Worker here costs a second to load.)
const workers = {
  gateway: { bindings: { ...env, CATALOG: catalog }, storage: true },
  memory: { bindings: { ...env, CATALOG: catalog }, storage: false },
  "invalid-catalog": {
    bindings: { ...env, CATALOG: { projects: [{ id: "has spaces", name: "Broken", channels: "none" }] } },
    storage: false
  }
}
type WorkerName = keyof typeof workers

let miniflare: Miniflare
let script: string
/** Each line the Workers wrote to the console, parsed. */
const logLines: Array<Record<string, any>> = []

beforeAll(async () => {
  script = await bundleWorker()
  const compatibilityDate = wranglerSetting("compatibility_date")
  miniflare = new Miniflare({
    workers: Object.entries(workers).map(([name, { bindings, storage }]) => ({
      name,
      modules: true,
      script,
      compatibilityDate,
      bindings,
      ...(storage ? { d1Databases: { DB: `${name}-db` }, durableObjects: { RATE_LIMITER: "RateLimiterObject" } } : {}),
      routes: [`${name}.gateway.test/*`]
    })),
    handleStructuredLogs: ({ message }: { readonly message: string }) => {
      logLines.push(JSON.parse(message))
    }
  })
  await miniflare.ready
})

afterAll(async () => {
  await miniflare?.dispose()
})

const ask = async (worker: WorkerName, exchange: Exchange) =>
  read(await miniflare.dispatchFetch(`http://${worker}.gateway.test${exchange.path}`, init(exchange)))

describe("the Worker with examples/catalog.json bound as CATALOG", () => {
  const worker = "gateway"
  // The reference is the real Node adapter, serving the same catalog file over loopback HTTP.
  let reference: RunningGateway
  beforeAll(async () => {
    reference = await startGateway({ ...env, CATALOG_FILE: catalogFile.pathname })
  })
  const served: Array<{
    readonly request_id: string
    readonly method: string
    readonly path: string
    readonly status: number
  }> = []

  afterAll(() => reference.close())

  it.each(exchanges)("answers $name as the Node adapter does", async (exchange) => {
    const expected = await read(await fetch(reference.url(exchange.path), init(exchange)))
    const { requestId, ...answer } = await ask(worker, exchange)
    expect(answer.status).toBe(exchange.status)
    if (exchange.includes !== undefined) expect(answer.body).toMatchObject(exchange.includes)
    expectSameAnswer(answer, expected)
    served.push({
      request_id: requestId,
      method: exchange.method ?? "GET",
      path: exchange.path.split("?")[0]!,
      status: answer.status
    })
  })

  it("sends the security headers and the redirect target", async () => {
    const { headers } = await ask(worker, exchanges.find((exchange) => exchange.status === 302)!)
    expect(headers).toMatchObject({
      location: "https://cdn.lunarbit.dev/trackly/1.2.5/trackly-1.2.5-win-x64.exe",
      "x-frame-options": "DENY",
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'self'",
      "strict-transport-security": "max-age=31536000; includeSubDomains"
    })
  })

  it("answers concurrent requests, each with its own id", async () => {
    const exchange = exchanges.find((candidate) => candidate.name === "launcher check")!
    const answers = await Promise.all(Array.from({ length: 25 }, () => ask(worker, exchange)))
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200))
    expect(new Set(answers.map((answer) => answer.requestId)).size).toBe(25)
  })

  it("writes one JSON access-log line per request, without the key", async () => {
    await vi.waitFor(() => {
      for (const request of served) {
        const lines = logLines.filter((line) => line.request_id === request.request_id)
        expect(lines).toHaveLength(1)
        expect(lines[0]).toMatchObject({ level: 30, time: expect.any(Number), msg: "request", ...request })
      }
    })
    expect(JSON.stringify(logLines)).not.toContain(adminKey)
  })
})

describe("the docs page", () => {
  it("loads Scalar from jsDelivr, allowed by its page's policy only, so the Worker stays small", async () => {
    const docs = await miniflare.dispatchFetch("http://gateway.gateway.test/docs")
    expect(docs.status).toBe(200)
    expect(await docs.text()).toContain(
      '<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.43.5/dist/browser/standalone.min.js"'
    )
    expect(docs.headers.get("content-security-policy")).toContain(
      "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net;"
    )
    const health = await miniflare.dispatchFetch("http://gateway.gateway.test/health")
    expect(health.headers.get("content-security-policy")).toBe("default-src 'self'")
    // The embedded script alone is 3.2 MB; without it the minified Worker is about 0.45 MB gzipped.
    expect(gzipSync(script).length).toBeLessThan(600_000)
  })
})

describe("the Worker without storage bindings", () => {
  it("says in /health and in its log that its state is per isolate", async () => {
    const health = await miniflare.dispatchFetch("http://memory.gateway.test/health")
    expect(await health.json()).toMatchObject({
      status: "degraded",
      sources: [
        { name: "memory", status: "ok" },
        { name: "state", status: "degraded" }
      ]
    })
    // The public probe carries statuses only; the admin reads why.
    const sources = await miniflare.dispatchFetch("http://memory.gateway.test/admin/sources", {
      headers: { authorization: `Bearer ${adminKey}` }
    })
    expect(await sources.json()).toMatchObject({
      sources: [
        { name: "memory", status: "ok" },
        {
          name: "state",
          status: "degraded",
          last_error: expect.stringContaining("rate limits live in this isolate's memory only")
        }
      ]
    })
    // Once per isolate without storage, when it started, as a warning: here "memory" and "invalid-catalog".
    expect(logLines.filter((line) => line.level === 40)).toEqual(
      Array.from({ length: 2 }, () =>
        expect.objectContaining({ msg: expect.stringMatching(/^API keys, usage, .* Bind a D1 database as DB/) })
      )
    )
  })

  it("still serves the API", async () => {
    const exchange = exchanges.find((candidate) => candidate.name === "launcher check")!
    expect((await ask("memory", exchange)).status).toBe(200)
  })
})

describe("the Worker with an invalid CATALOG", () => {
  it("answers every request with the error envelope and logs the problems once", async () => {
    const answers = [
      await ask("invalid-catalog", { name: "health", path: "/health", status: 500 }),
      await ask("invalid-catalog", { name: "projects", path: "/projects", key: adminKey, status: 500 })
    ]
    for (const answer of answers) {
      expect(answer.status).toBe(500)
      expect(answer.headers).toMatchObject({ "content-type": "application/json", "x-frame-options": "DENY" })
      expect(answer.body).toEqual({
        error: {
          code: "INTERNAL_ERROR",
          message: "The gateway is misconfigured: its CATALOG binding is invalid. The Worker's log lists the problems.",
          details: {},
          documentation_url: "https://docs.lunarbit.dev/api-errors#INTERNAL_ERROR",
          request_id: "<request id>"
        }
      })
    }
    await vi.waitFor(() => {
      const fatal = logLines.filter((line) => line.level === 60)
      expect(fatal).toEqual([
        {
          level: 60,
          time: expect.any(Number),
          msg: "The gateway cannot serve: the CATALOG binding is invalid (The catalog is invalid)",
          problems: expect.arrayContaining([
            expect.stringMatching(/^projects\.0\.id: /),
            expect.stringMatching(/^projects\.0\.channels: /),
            expect.stringMatching(/^projects\.0\.created_at: /)
          ])
        }
      ])
    })
  })
})
