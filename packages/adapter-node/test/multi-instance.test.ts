import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { adminKey, startGateway } from "./support/gateway.ts"
import { type GatewayProcess, startProcess, waitFor } from "./support/process.ts"
import { postgresDatabase, redisServer, type TestPostgres, type TestRedis } from "./support/services.ts"

const admin = { authorization: `Bearer ${adminKey}`, "content-type": "application/json" }

const createKey = async (gateway: GatewayProcess, body: Record<string, unknown>) => {
  const response = await fetch(gateway.url("/admin/keys"), {
    method: "POST",
    headers: admin,
    body: JSON.stringify(body)
  })
  expect(response.status).toBe(201)
  return ((await response.json()) as { key: string }).key
}

const status = (gateway: GatewayProcess, path: string, key: string) =>
  fetch(gateway.url(path), { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status)

/** The version a Tauri client on Windows at 1.2.0 is offered through `gateway`. */
const tauriOffer = async (gateway: { url: (path: string) => string }, clientId: string) => {
  const response = await fetch(gateway.url("/feeds/tauri/trackly/stable/windows/x86_64/1.2.0"), {
    headers: { ...admin, "x-client-id": clientId }
  })
  return ((await response.json()) as { version: string }).version
}

const setRollout = (gateway: { url: (path: string) => string }, change: Record<string, unknown>) =>
  fetch(gateway.url("/admin/projects/trackly/channels/stable/versions/1.2.5/rollout"), {
    method: "PUT",
    headers: admin,
    body: JSON.stringify(change)
  }).then((r) => r.status)

/** Pausing on one instance stops the offer on both at their next request; resuming brings it back. */
// The instance that made a change applies it at once; the other reads the store at most a second later.
const pauseReachesBoth = async (a: { url: (path: string) => string }, b: { url: (path: string) => string }) => {
  const offers = async (first: typeof a, second: typeof a) => [
    await tauriOffer(first, "device-7"),
    await tauriOffer(second, "device-7")
  ]
  const within = async (first: typeof a, second: typeof a, expected: ReadonlyArray<string>) => {
    const started = Date.now()
    expect((await offers(first, second))[0]).toBe(expected[0])
    while ((await offers(first, second))[1] !== expected[1]) {
      expect(Date.now() - started).toBeLessThan(1_500)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  expect(await setRollout(a, { percentage: 100, paused: false })).toBe(200)
  await within(a, b, ["1.2.5", "1.2.5"])
  expect(await setRollout(b, { paused: true })).toBe(200)
  await within(b, a, ["1.2.3", "1.2.3"])
  expect(await setRollout(a, { paused: false })).toBe(200)
  await within(a, b, ["1.2.5", "1.2.5"])
}

describe("two gateway processes sharing PostgreSQL and Redis", () => {
  let database: TestPostgres
  let redis: TestRedis
  let a: GatewayProcess
  let b: GatewayProcess

  beforeAll(async () => {
    ;[database, redis] = await Promise.all([postgresDatabase(), redisServer()])
    const env = {
      API_KEY_ADMIN: adminKey,
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      RATE_LIMIT_REDIS_PREFIX: redis.prefix,
      RATE_LIMIT_IP_MAX: "100000"
    }
    // Each instance keeps its download counts in a file of its own; keys and limits are shared.
    ;[a, b] = await Promise.all([
      startProcess({ ...env, DATABASE_PATH: join(mkdtempSync(join(tmpdir(), "lunarbit-a-")), "gateway.db") }),
      startProcess({ ...env, DATABASE_PATH: join(mkdtempSync(join(tmpdir(), "lunarbit-b-")), "gateway.db") })
    ])
  }, 120_000)
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    await Promise.all([database?.close(), redis?.close()])
  })

  it("accepts on one instance a key created through the other", async () => {
    const key = await createKey(a, { name: "shared", permissions: { canReadProjects: true } })
    expect(await status(b, "/projects", key)).toBe(200)
  })

  it("refuses a key at once on the instance that revokes it, and within a second on the other", async () => {
    const key = await createKey(b, { name: "revoked-on-a", permissions: { canReadProjects: true } })
    expect(await status(a, "/projects", key)).toBe(200)
    expect(await status(b, "/projects", key)).toBe(200)
    const revoked = await fetch(a.url("/admin/keys/revoked-on-a"), { method: "DELETE", headers: admin })
    const revokedAt = Date.now()
    expect(revoked.status).toBe(204)
    expect(await status(a, "/projects", key)).toBe(401)
    // Instance b remembers the key it verified for at most a second.
    await waitFor(async () => (await status(b, "/projects", key)) === 401, 2_000)
    expect(Date.now() - revokedAt).toBeLessThan(1_500)
  })

  it("holds a limit of 50 to exactly 50 across both", async () => {
    const key = await createKey(a, { name: "limited-50", permissions: { canReadProjects: true }, rateLimit: 50 })
    const statuses = await Promise.all(
      Array.from({ length: 120 }, (_, i) => status(i % 2 === 0 ? a : b, "/projects", key))
    )
    expect(statuses.filter((s) => s === 200)).toHaveLength(50)
    expect(statuses.filter((s) => s === 429)).toHaveLength(70)
  })

  it("stops a paused rollout on the instance that paused it at once, and on the other within a second", () =>
    pauseReachesBoth(a, b))
})

describe("two gateways sharing one SQLite file", () => {
  it("stops a paused rollout on the instance that paused it at once, and on the other within a second", async () => {
    const env = { DATABASE_PATH: join(mkdtempSync(join(tmpdir(), "lunarbit-rollout-")), "gateway.db") }
    const [a, b] = await Promise.all([startGateway(env), startGateway(env)])
    try {
      await pauseReachesBoth(a, b)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  }, 60_000)
})

describe("a restart with the embedded SQLite store", () => {
  it("keeps keys and their usage", async () => {
    const env = {
      API_KEY_ADMIN: adminKey,
      DATABASE_PATH: join(mkdtempSync(join(tmpdir(), "lunarbit-restart-")), "gateway.db")
    }
    const first = await startProcess(env)
    let key: string
    try {
      key = await createKey(first, { name: "survivor", permissions: { canReadProjects: true } })
      for (let i = 0; i < 3; i++) expect(await status(first, "/projects", key)).toBe(200)
      expect(await status(first, "/projects/nonexistent", key)).toBe(404)
    } finally {
      // Usage is written behind; a clean stop writes what is pending.
      await first.stop()
    }
    const second = await startProcess(env)
    try {
      expect(await status(second, "/projects", key)).toBe(200)
      const stats = await (await fetch(second.url("/admin/keys/stats"), { headers: admin })).json()
      expect(stats.keys.find((k: { name: string }) => k.name === "survivor")).toMatchObject({ requests: 5, errors: 1 })
    } finally {
      await second.stop()
    }
  }, 60_000)
})
