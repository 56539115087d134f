import type { Hooks } from "@lunarbit/gateway-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { start } from "./server.ts"

const admin = "embed-test-admin-key-0123456789abcdef"

describe("the gateway embedded in a node:http server under /updates", () => {
  let app: Awaited<ReturnType<typeof start>>
  const url = (path: string) => `http://127.0.0.1:${app.port}${path}`
  let maintenance = false
  const recorded: Array<Hooks.ResponseFacts> = []

  beforeAll(async () => {
    app = await start({
      port: 0,
      env: { API_KEY_ADMIN: admin, LOG_LEVEL: "fatal", DATABASE_PATH: ":memory:" },
      maintenance: () => maintenance,
      record: (response) => void recorded.push(response)
    })
  })
  afterAll(() => app.close())

  it("answers its own routes under the prefix", async () => {
    const response = await fetch(url("/updates/health"))
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ status: "healthy", version: "2.0.0" })
    expect(response.headers.get("x-request-id")).toMatch(/^req_/)
  })

  it("serves authenticated routes and the /api/v2 form under the prefix", async () => {
    const response = await fetch(url("/updates/api/v2/projects/trackly"), {
      headers: { authorization: `Bearer ${admin}` }
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ id: "trackly", latest_version: "1.2.5" })
  })

  it("leaves every other path to the host application", async () => {
    for (const path of ["/", "/health", "/updatesx/health", "/other/updates"]) {
      const response = await fetch(url(path))
      expect(await response.text()).toBe("Hello from the host application\n")
    }
  })

  it("keeps query strings when the prefix alone is asked", async () => {
    const response = await fetch(url("/updates?x=1"), { headers: { authorization: `Bearer ${admin}` } })
    const body = await response.json()
    expect(response.status).toBe(404)
    expect(body.error.code).toBe("NOT_FOUND")
  })

  it("refuses writes through its onRequest hook during maintenance, in the gateway's envelope", async () => {
    maintenance = true
    try {
      const refused = await fetch(url("/updates/admin/keys"), {
        method: "POST",
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "ci", permissions: { canReadProjects: true } })
      })
      expect(refused.status).toBe(403)
      const body = await refused.json()
      expect(body.error).toMatchObject({ code: "FORBIDDEN", details: { route: "/admin/keys" } })
      expect(body.error.request_id).toBe(refused.headers.get("x-request-id"))
      // Reads still pass.
      expect((await fetch(url("/updates/health"))).status).toBe(200)
    } finally {
      maintenance = false
    }
  })

  it("records each answer through its onResponse hook, with the key's name and never the key", async () => {
    recorded.length = 0
    const response = await fetch(url("/updates/projects/trackly"), { headers: { authorization: `Bearer ${admin}` } })
    expect(response.status).toBe(200)
    expect(recorded).toMatchObject([
      {
        requestId: response.headers.get("x-request-id"),
        route: "/projects/:projectId",
        status: 200,
        principal: { name: "admin" }
      }
    ])
    expect(JSON.stringify(recorded)).not.toContain(admin)
  })
})
