import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auth, type RunningGateway, startGateway } from "./support/gateway.ts"

const pastedKey = "lbapi_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"

describe("what the logs and the audit trail keep of a request", () => {
  let gateway: RunningGateway
  beforeAll(async () => {
    gateway = await startGateway()
  })
  afterAll(() => gateway.close())

  it("masks a key pasted into the path in the access log", async () => {
    const response = await fetch(gateway.url(`/projects/${pastedKey}`), { headers: auth })
    expect(response.status).toBe(404)
    const id = response.headers.get("x-request-id")
    const line = gateway.logs.find((entry) => entry.request_id === id && entry.msg === "request")
    expect(line?.path).toBe("/projects/[REDACTED]")
    expect(JSON.stringify(gateway.logs)).not.toContain(pastedKey.slice(6, 30))
    // The answer passes the same redaction: an error echoing the request carries no key either.
    const body = await response.json()
    expect(body.error.code).toBe("PROJECT_NOT_FOUND")
    expect(JSON.stringify(body)).not.toContain(pastedKey.slice(6, 30))
  })

  it("records the method and path of a refused admin request", async () => {
    const denied = await fetch(gateway.url("/api/v2/admin/keys/someone/rotate"), { method: "POST" })
    expect(denied.status).toBe(401)
    const id = denied.headers.get("x-request-id")
    const page = await (await fetch(gateway.url("/admin/audit?per_page=100"), { headers: auth })).json()
    const failure = page.events.find((event: any) => event.request_id === id)
    expect(failure).toMatchObject({
      action: "admin.auth_failed",
      actor: "anonymous",
      details: { method: "POST", path: "/admin/keys/someone/rotate", reason: "UNAUTHORIZED" }
    })
    expect(failure.details.endpoint).toBeUndefined()
  })
})
