import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auth, type RunningGateway, startGateway } from "./support/gateway.ts"

const json = { "content-type": "application/json" }
const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

/** Asserts the error envelope's status and code, returning the error. */
const expectError = async (response: Response, status: number, code: string) => {
  expect(response.status).toBe(status)
  const body = (await response.json()) as { error: Record<string, any> }
  expect(body.error.code).toBe(code)
  expect(body.error.request_id).toBe(response.headers.get("x-request-id"))
  return body.error
}

const client = (gateway: RunningGateway) => ({
  get: (path: string, headers: Record<string, string> = auth) => fetch(gateway.url(path), { headers }),
  post: (path: string, body: unknown, headers: Record<string, string> = auth) =>
    fetch(gateway.url(path), { method: "POST", headers: { ...headers, ...json }, body: JSON.stringify(body) }),
  delete: (path: string, headers: Record<string, string> = auth) =>
    fetch(gateway.url(path), { method: "DELETE", headers }),
  createKey: async (body: Record<string, unknown>) => {
    const response = await fetch(gateway.url("/admin/keys"), {
      method: "POST",
      headers: { ...auth, ...json },
      body: JSON.stringify(body)
    })
    expect(response.status).toBe(201)
    return (await response.json()) as Record<string, any>
  }
})

describe("key management", () => {
  let gateway: RunningGateway
  let api: ReturnType<typeof client>
  beforeAll(async () => {
    gateway = await startGateway()
    api = client(gateway)
  })
  afterAll(() => gateway.close())

  it("creates a key, shows it once, and lists it masked", async () => {
    const created = await api.createKey({
      name: "My App Key",
      description: "API key for my application",
      permissions: { canReadProjects: true, canReadVersions: true, canCheckUpdates: true, canUseAI: true },
      rateLimit: 1000,
      expiresIn: "90d",
      allowedProjects: ["trackly"],
      tags: ["mobile-app", "production"]
    })
    expect(created).toMatchObject({
      message: "API key created successfully",
      name: "My App Key",
      description: "API key for my application",
      permissions: {
        canReadProjects: true,
        canReadVersions: true,
        canCheckUpdates: true,
        canUseAI: true,
        canCreateKeys: false,
        canRevokeKeys: false
      },
      rateLimit: 1000,
      allowedProjects: ["trackly"],
      tags: ["mobile-app", "production"],
      warning: "Save this key now - it will not be shown again!"
    })
    expect(created.key).toMatch(/^lbapi_[0-9A-Za-z]{49}$/)
    const days = (Date.parse(created.expiresAt) - Date.parse(created.createdAt)) / 86_400_000
    expect(days).toBe(90)

    const listing = await (await api.get("/admin/keys")).json()
    const listed = listing.keys.find((k: any) => k.name === "My App Key")
    expect(listed.key).toBe(`lbapi_…${created.key.slice(-4)}`)
    expect(listed.status).toBe("active")
    expect(JSON.stringify(listing)).not.toContain(created.key)
    expect(JSON.stringify(gateway.logs)).not.toContain(created.key)
  })

  it("rejects duplicate names, unknown permissions, bad durations, out-of-range limits and misspelt fields with field paths", async () => {
    await api.createKey({ name: "dup", permissions: {} })
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: "dup", permissions: {} }, "body.name"],
      [{ name: "admin", permissions: {} }, "body.name"],
      [{ name: "p", permissions: { canDoAnything: true } }, "body.permissions.canDoAnything"],
      [{ name: "d", permissions: {}, expiresIn: "tomorrow" }, "body.expiresIn"],
      [{ name: "d2", permissions: {}, expiresIn: "11y" }, "body.expiresIn"],
      [{ name: "r", permissions: {}, rateLimit: 0 }, "body.rateLimit"],
      [{ name: "r2", permissions: {}, rateLimit: 1.5 }, "body.rateLimit"],
      [{ name: "t", permissions: {}, expireIn: "30d" }, "body.expireIn"],
      [{ name: "", permissions: {} }, "body.name"]
    ]
    for (const [body, field] of cases) {
      const error = await expectError(await api.post("/admin/keys", body), 400, "INVALID_REQUEST")
      expect(error.details.issues.map((i: any) => i.field)).toContain(field)
    }
  })

  it("enforces each permission on exactly its endpoints", async () => {
    const reader = (await api.createKey({ name: "reader", permissions: { canReadProjects: true } })).key
    expect((await api.get("/projects", bearer(reader))).status).toBe(200)
    expect((await api.get("/projects/trackly", bearer(reader))).status).toBe(200)
    const versions = await expectError(
      await api.get("/projects/trackly/channels/stable/versions", bearer(reader)),
      403,
      "FORBIDDEN"
    )
    expect(versions.details.required_permission).toBe("canReadVersions")
    const update = await expectError(
      await api.get(
        "/projects/trackly/channels/stable/update?current_version=1.0.0&platform=linux&architecture=x64",
        bearer(reader)
      ),
      403,
      "FORBIDDEN"
    )
    expect(update.details.required_permission).toBe("canCheckUpdates")
    await expectError(await api.post("/update/check", { client: {}, installed: [] }, bearer(reader)), 403, "FORBIDDEN")
    await expectError(await api.post("/admin/keys", { name: "x", permissions: {} }, bearer(reader)), 403, "FORBIDDEN")
    await expectError(await api.delete("/admin/keys/dup", bearer(reader)), 403, "FORBIDDEN")

    const creator = (await api.createKey({ name: "creator", permissions: { canCreateKeys: true } })).key
    expect((await api.post("/admin/keys", { name: "made-by-creator", permissions: {} }, bearer(creator))).status).toBe(
      201
    )
    const list = await expectError(await api.get("/admin/keys", bearer(creator)), 403, "FORBIDDEN")
    expect(list.details.required_permission).toBe("admin")
    const revoker = (await api.createKey({ name: "revoker", permissions: { canRevokeKeys: true } })).key
    expect((await api.delete("/admin/keys/made-by-creator", bearer(revoker))).status).toBe(204)
  })

  it("restricts a key to its allowed projects everywhere", async () => {
    const key = (
      await api.createKey({
        name: "trackly-only",
        permissions: { canReadProjects: true, canReadVersions: true, canCheckUpdates: true },
        allowedProjects: ["trackly"]
      })
    ).key
    const projects = await (await api.get("/projects", bearer(key))).json()
    expect(projects.projects.map((p: any) => p.id)).toEqual(["trackly"])
    const hidden = await expectError(await api.get("/projects/csviewer", bearer(key)), 404, "PROJECT_NOT_FOUND")
    expect(hidden.details.available_projects).toEqual(["trackly"])
    await expectError(
      await api.get("/projects/csviewer/channels/stable/versions", bearer(key)),
      404,
      "PROJECT_NOT_FOUND"
    )
    const check = await (
      await api.post(
        "/update/check",
        {
          client: { launcher_version: "2.0.0", os: "windows", architecture: "x64" },
          installed: [
            { project_id: "trackly", version: "1.0.0" },
            { project_id: "csviewer", version: "1.0.0" }
          ]
        },
        bearer(key)
      )
    ).json()
    expect(check.project_updates[0].update_available).toBe(true)
    expect(check.project_updates[1].error.code).toBe("PROJECT_NOT_FOUND")
  })

  it("revokes a key at once", async () => {
    const key = (await api.createKey({ name: "short-lived", permissions: { canReadProjects: true } })).key
    expect((await api.get("/projects", bearer(key))).status).toBe(200)
    const revoked = await api.delete("/admin/keys/short-lived")
    expect(revoked.status).toBe(204)
    const error = await expectError(await api.get("/projects", bearer(key)), 401, "UNAUTHORIZED")
    expect(error.details.reason).toBe("revoked")
    await expectError(await api.delete("/admin/keys/never-existed"), 404, "KEY_NOT_FOUND")
    const listed = (await (await api.get("/admin/keys")).json()).keys.find((k: any) => k.name === "short-lived")
    expect(listed.status).toBe("revoked")
  })

  it("rotates a key, keeping the old secret valid for the grace period", async () => {
    const old = (await api.createKey({ name: "rotating", permissions: { canReadProjects: true } })).key
    const response = await api.post("/admin/keys/rotating/rotate", { gracePeriod: "1h" })
    expect(response.status).toBe(200)
    const rotated = await response.json()
    expect(rotated.key).not.toBe(old)
    expect(rotated.warning).toBe("Save this key now - it will not be shown again!")
    expect(Date.parse(rotated.previousKeyValidUntil) - Date.now()).toBeGreaterThan(3_500_000)
    expect((await api.get("/projects", bearer(rotated.key))).status).toBe(200)
    expect((await api.get("/projects", bearer(old))).status).toBe(200)
    await expectError(await api.post("/admin/keys/nobody/rotate", {}), 404, "KEY_NOT_FOUND")
    const bad = await expectError(
      await api.post("/admin/keys/rotating/rotate", { gracePeriod: "soon" }),
      400,
      "INVALID_REQUEST"
    )
    expect(bad.details.issues[0].field).toBe("body.gracePeriod")
  })

  it("counts usage per key in the stats", async () => {
    const key = (await api.createKey({ name: "counted", permissions: { canReadProjects: true } })).key
    for (let i = 0; i < 3; i++) await api.get("/projects", bearer(key))
    await api.get("/projects/nonexistent", bearer(key))
    await api.get("/projects/trackly/channels/stable/versions", bearer(key))
    const stats = await (await api.get("/admin/keys/stats")).json()
    const counted = stats.keys.find((k: any) => k.name === "counted")
    expect(counted).toMatchObject({ requests: 5, errors: 2, tokens: 0 })
    expect(Date.parse(counted.lastUsed)).not.toBeNaN()
    expect(stats.totals.requests).toBeGreaterThanOrEqual(5)
    expect(stats.totals.keys).toBeGreaterThan(1)
  })

  it("records key creation, rotation, revocation and failed admin authentication in the audit log", async () => {
    await api.createKey({ name: "audited", permissions: { canReadProjects: true } })
    const rotated = await api.post("/admin/keys/audited/rotate", {})
    const rotateId = rotated.headers.get("x-request-id")
    await api.delete("/admin/keys/audited")
    const denied = await api.get("/admin/keys", {})
    const deniedId = denied.headers.get("x-request-id")
    const page = await (await api.get("/admin/audit?per_page=100")).json()
    const forKey = page.events.filter((e: any) => e.target === "audited").map((e: any) => e.action)
    expect(forKey).toEqual(["key.revoked", "key.rotated", "key.created"])
    const rotation = page.events.find((e: any) => e.request_id === rotateId)
    expect(rotation).toMatchObject({ action: "key.rotated", actor: "admin", target: "audited" })
    const failure = page.events.find((e: any) => e.request_id === deniedId)
    expect(failure).toMatchObject({ action: "admin.auth_failed", actor: "anonymous" })
    const first = await (await api.get("/admin/audit?per_page=2&page=1")).json()
    expect(first.events).toHaveLength(2)
    expect(first.total).toBe(page.total)
    expect(first.events[0]).toEqual(page.events[0])
  })
})

describe("the read-only key from API_KEY_READ", () => {
  it("reads the catalog and checks updates, and nothing else", async () => {
    const readKey = "configured-read-key-0123456789abcdef"
    const gateway = await startGateway({ API_KEY_READ: readKey })
    try {
      const api = client(gateway)
      expect((await api.get("/projects", bearer(readKey))).status).toBe(200)
      expect((await api.get("/projects/trackly/channels/stable/versions", bearer(readKey))).status).toBe(200)
      const update = await api.get(
        "/projects/trackly/channels/stable/update?current_version=1.0.0&platform=linux&architecture=x64",
        bearer(readKey)
      )
      expect(update.status).toBe(200)
      await expectError(
        await api.post("/admin/keys", { name: "x", permissions: {} }, bearer(readKey)),
        403,
        "FORBIDDEN"
      )
      await expectError(await api.get("/v1/models", bearer(readKey)), 403, "FORBIDDEN")
      // Its name is reserved, so no stored key can pass for it.
      const taken = await expectError(
        await api.post("/admin/keys", { name: "read", permissions: {} }),
        400,
        "INVALID_REQUEST"
      )
      expect(taken.details.issues[0].field).toBe("body.name")
    } finally {
      await gateway.close()
    }
  })
})

describe("rate limits", () => {
  let gateway: RunningGateway
  let api: ReturnType<typeof client>
  beforeAll(async () => {
    gateway = await startGateway({ RATE_LIMIT_UNAUTHENTICATED_MAX: "3", RATE_LIMIT_IP_MAX: "100000" })
    api = client(gateway)
  })
  afterAll(() => gateway.close())

  it("answers 429 with Retry-After once a key's own limit is spent, with headers on every response", async () => {
    const key = (await api.createKey({ name: "limited", permissions: { canReadProjects: true }, rateLimit: 5 })).key
    const remaining: Array<string | null> = []
    for (let i = 0; i < 5; i++) {
      const response = await api.get("/projects", bearer(key))
      expect(response.status).toBe(200)
      expect(response.headers.get("x-ratelimit-limit")).toBe("5")
      remaining.push(response.headers.get("x-ratelimit-remaining"))
      expect(Number(response.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000)
      expect(response.headers.get("ratelimit-policy")).toBe('"ip";q=100000;w=900, "key";q=5;w=900')
    }
    expect(remaining).toEqual(["4", "3", "2", "1", "0"])
    const refused = await api.get("/projects", bearer(key))
    const error = await expectError(refused, 429, "RATE_LIMIT_EXCEEDED")
    expect(error.details).toMatchObject({ policy: "key", limit: 5, window_seconds: 900 })
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0)
    expect(refused.headers.get("ratelimit")).toMatch(/^"key";r=0;t=\d+$/)
  })

  it("keys the limit on the validated key, so a rotated secret does not reset it", async () => {
    const key = (await api.createKey({ name: "rotator", permissions: { canReadProjects: true }, rateLimit: 2 })).key
    await api.get("/projects", bearer(key))
    await api.get("/projects", bearer(key))
    const fresh = (await (await api.post("/admin/keys/rotator/rotate", {})).json()).key
    await expectError(await api.get("/projects", bearer(fresh)), 429, "RATE_LIMIT_EXCEEDED")
  })

  it("limits unauthenticated callers per IP", async () => {
    for (let i = 0; i < 3; i++) expect((await fetch(gateway.url("/projects"))).status).toBe(401)
    const error = await expectError(await fetch(gateway.url("/projects")), 429, "RATE_LIMIT_EXCEEDED")
    expect(error.details.policy).toBe("unauthenticated")
    // A caller with a valid key is not in that bucket.
    expect((await api.get("/projects")).status).toBe(200)
  })

  it("never limits the health probes, and gives the public documents a bucket of their own", async () => {
    // The unauthenticated bucket (3 per hour) is spent by the test above, or here.
    for (let i = 0; i < 4; i++) await fetch(gateway.url("/projects"))
    for (const path of ["/health", "/health/live", "/health/ready", "/api/v2/health"]) {
      for (let i = 0; i < 10; i++) {
        const response = await fetch(gateway.url(path))
        expect(response.status).toBe(200)
        expect(response.headers.get("ratelimit-policy")).toBeNull()
      }
    }
    for (const path of ["/openapi.json", "/docs", "/ai/status"]) {
      const response = await fetch(gateway.url(path))
      expect(response.status).toBe(200)
      expect(response.headers.get("ratelimit-policy")).toBe('"public";q=600;w=60')
    }
  })

  it("lets exactly the limit through 300 concurrent requests", async () => {
    const key = (await api.createKey({ name: "burst", permissions: { canReadProjects: true }, rateLimit: 100 })).key
    const statuses = await Promise.all(
      Array.from({ length: 300 }, () => api.get("/projects", bearer(key)).then((r) => r.status))
    )
    expect(statuses.filter((s) => s === 200)).toHaveLength(100)
    expect(statuses.filter((s) => s === 429)).toHaveLength(200)
  })
})

describe("the AI bucket", () => {
  it("counts every AI route of a key against its own, smaller limit", async () => {
    const gateway = await startGateway({ RATE_LIMIT_AI_MAX: "3" })
    try {
      const api = client(gateway)
      const key = (await api.createKey({ name: "ai-user", permissions: { canUseAI: true, canReadProjects: true } })).key
      const first = await api.get("/v1/models", bearer(key))
      expect(first.status).toBe(200)
      expect(first.headers.get("ratelimit-policy")).toContain('"ai";q=3;w=3600')
      expect(first.headers.get("x-ratelimit-limit")).toBe("3")
      // The status document is public and counts against the public bucket only.
      expect((await api.get("/ai/status", bearer(key))).headers.get("ratelimit-policy")).toContain('"public"')
      expect((await api.get("/v1/models", bearer(key))).status).toBe(200)
      const chat = await api.post("/ai/chat", { messages: [{ role: "user", content: "Hi" }] }, bearer(key))
      expect(chat.status).toBe(503)
      const refused = await expectError(await api.get("/v1/models", bearer(key)), 429, "RATE_LIMIT_EXCEEDED")
      expect(refused.details.policy).toBe("ai")
      // The key's other routes are not in the AI bucket.
      expect((await api.get("/projects", bearer(key))).status).toBe(200)
    } finally {
      await gateway.close()
    }
  })
})

describe("the per-IP abuse bucket", () => {
  it("applies beside the key's own bucket", async () => {
    const gateway = await startGateway({ RATE_LIMIT_IP_MAX: "4" })
    try {
      const statuses = []
      for (let i = 0; i < 5; i++) statuses.push((await fetch(gateway.url("/projects"), { headers: auth })).status)
      expect(statuses).toEqual([200, 200, 200, 200, 429])
    } finally {
      await gateway.close()
    }
  })
})

describe("CORS", () => {
  let gateway: RunningGateway
  beforeAll(async () => {
    gateway = await startGateway({ CORS_ORIGINS: "https://app.example.com,https://admin.example.com" })
  })
  afterAll(() => gateway.close())

  const preflight = (origin: string) =>
    fetch(gateway.url("/projects"), {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "authorization" }
    })

  it("answers a preflight from an allowed origin without needing a key", async () => {
    const response = await preflight("https://app.example.com")
    expect(response.status).toBe(204)
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example.com")
    expect(response.headers.get("access-control-allow-headers")).toContain("authorization")
    expect(response.headers.get("access-control-allow-methods")).toContain("GET")
    expect(response.headers.get("vary")).toBe("Origin")
  })

  it("refuses a preflight from any other origin", async () => {
    const response = await preflight("https://evil.example.net")
    await expectError(response, 403, "FORBIDDEN")
    expect(response.headers.get("access-control-allow-origin")).toBeNull()
  })

  it("marks actual responses for allowed origins only", async () => {
    const allowed = await fetch(gateway.url("/projects"), { headers: { ...auth, origin: "https://admin.example.com" } })
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://admin.example.com")
    expect(allowed.headers.get("access-control-expose-headers")).toContain("x-request-id")
    // Catalog answers vary by key already; the origin joins rather than replaces that.
    expect(allowed.headers.get("vary")).toBe("Authorization, Origin")
    const other = await fetch(gateway.url("/projects"), { headers: { ...auth, origin: "https://evil.example.net" } })
    expect(other.headers.get("access-control-allow-origin")).toBeNull()
  })
})
