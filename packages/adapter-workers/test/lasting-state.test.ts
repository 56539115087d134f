import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Miniflare } from "miniflare"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { bundleWorker, wranglerSetting } from "./bundle.ts"
import { adminKey, gatewayEnv } from "./exchanges.ts"

const catalog = JSON.parse(readFileSync(new URL("../../../examples/catalog.json", import.meta.url), "utf8"))
const build = "/projects/trackly/channels/stable/versions/1.2.5/builds/windows-x64"

// Two Workers, two isolates, sharing one D1 database and one namespace of rate-limit objects, as
// isolates of one deployment in different locations do. Their storage is persisted in a folder, so
// a new Miniflare on the same folder is the deployment after every isolate was evicted.
const persistRoot = mkdtempSync(join(tmpdir(), "lunarbit-workers-state-"))
let script: string
const isolates = ["a", "b"] as const
type Isolate = (typeof isolates)[number]

const start = () =>
  new Miniflare({
    d1Persist: join(persistRoot, "d1"),
    durableObjectsPersist: join(persistRoot, "do"),
    workers: isolates.map((name) => ({
      name,
      modules: true,
      script,
      compatibilityDate: wranglerSetting("compatibility_date"),
      bindings: { ...gatewayEnv, CATALOG: catalog },
      d1Databases: { DB: "gateway" },
      durableObjects: { RATE_LIMITER: { className: "RateLimiterObject", scriptName: "a" } },
      routes: [`${name}.gateway.test/*`]
    }))
  })

let miniflare: Miniflare
beforeAll(async () => {
  script = await bundleWorker()
  miniflare = start()
  await miniflare.ready
})
afterAll(async () => {
  await miniflare?.dispose()
  rmSync(persistRoot, { recursive: true, force: true })
})

const call = async (isolate: Isolate, path: string, key: string, init: { method?: string; body?: unknown } = {}) => {
  const response = await miniflare.dispatchFetch(`http://${isolate}.gateway.test${path}`, {
    method: init.method ?? "GET",
    headers: {
      authorization: `Bearer ${key}`,
      ...(init.body === undefined ? {} : { "content-type": "application/json" })
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    redirect: "manual"
  })
  const text = await response.text()
  return { status: response.status, body: text.startsWith("{") ? JSON.parse(text) : text }
}

const createKey = async (isolate: Isolate, name: string, rateLimit?: number) => {
  const created = await call(isolate, "/admin/keys", adminKey, {
    method: "POST",
    body: {
      name,
      permissions: { canReadProjects: true, canReadVersions: true },
      ...(rateLimit === undefined ? {} : { rateLimit })
    }
  })
  expect(created.status).toBe(201)
  return created.body.key as string
}

const usageOf = async (isolate: Isolate, name: string) => {
  const stats = await call(isolate, "/admin/keys/stats", adminKey)
  return stats.body.keys.find((entry: { name: string }) => entry.name === name)?.requests ?? 0
}

describe("a Worker with D1 and the rate-limit Durable Objects", () => {
  let appKey: string
  let limited: string

  it("knows a key created on one isolate on the other, and in the audit log of both", async () => {
    appKey = await createKey("a", "lasting-app")
    expect((await call("b", "/projects", appKey)).status).toBe(200)
    for (const isolate of isolates) {
      const audit = await call(isolate, "/admin/audit", adminKey)
      expect(audit.body.events).toContainEqual(
        expect.objectContaining({ action: "key.created", target: "lasting-app" })
      )
    }
  })

  it("allows exactly N of N+k concurrent requests at a key limited to N, across isolates", async () => {
    limited = await createKey("a", "limited-app", 5)
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => call(isolates[i % 2]!, "/projects", limited))
    )
    const statuses = answers.map((answer) => answer.status)
    expect(statuses.filter((status) => status === 200)).toHaveLength(5)
    expect(statuses.filter((status) => status === 429)).toHaveLength(7)
  })

  it("counts usage and downloads from both isolates once they are flushed", async () => {
    const counted = await createKey("b", "counted-app")
    const downloadsBefore = (await call("a", "/projects/trackly", adminKey)).body.total_downloads as number
    for (const isolate of ["a", "b", "b", "a", "b"] as const) {
      expect((await call(isolate, "/projects", counted)).status).toBe(200)
    }
    expect((await call("b", `${build}/download`, counted)).status).toBe(302)
    // Each isolate wrote its counts after its responses (ctx.waitUntil); either one reads them all.
    await vi.waitFor(async () => {
      expect(await usageOf("a", "counted-app")).toBe(6)
      expect((await call("a", "/projects/trackly", adminKey)).body.total_downloads).toBe(downloadsBefore + 1)
    })
  })

  it("keeps keys, usage and downloads when every isolate is restarted on the same storage", async () => {
    const downloads = (await call("a", "/projects/trackly", adminKey)).body.total_downloads as number
    await miniflare.dispose()
    miniflare = start()
    await miniflare.ready
    expect((await call("b", "/projects", appKey)).status).toBe(200)
    expect(await usageOf("a", "counted-app")).toBe(6)
    expect((await call("a", "/projects/trackly", adminKey)).body.total_downloads).toBe(downloads)
    // The limited key's bucket (a year-long window) is still empty: the objects' storage lasted too.
    expect((await call("a", "/projects", limited)).status).toBe(429)
  })
})
