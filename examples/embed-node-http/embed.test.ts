import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { start } from "./server.ts"

const admin = "embed-test-admin-key-0123456789abcdef"

describe("the gateway embedded in a node:http server under /updates", () => {
  let app: Awaited<ReturnType<typeof start>>
  const url = (path: string) => `http://127.0.0.1:${app.port}${path}`

  beforeAll(async () => {
    app = await start({ port: 0, env: { API_KEY_ADMIN: admin, LOG_LEVEL: "fatal", DATABASE_PATH: ":memory:" } })
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
})
