import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningGateway, startGateway } from "./support/gateway.ts"

describe("the orchestrator probes", () => {
  let gateway: RunningGateway
  beforeAll(async () => {
    gateway = await startGateway()
  })
  afterAll(() => gateway.close())

  it("answers /health/live while the process runs", async () => {
    const response = await fetch(gateway.url("/health/live"))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: "live" })
    expect(response.headers.get("x-request-id")).toMatch(/^req_/)
  })

  it("answers /health/ready with each dependency checked", async () => {
    const response = await fetch(gateway.url("/health/ready"))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      status: "ready",
      checks: { catalog: "ok", keys: "ok", rate_limits: "ok" }
    })
  })

  it("documents both probes without authentication", async () => {
    const document = (await (await fetch(gateway.url("/openapi.json"))).json()) as any
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(["/health/live", "/health/ready"]))
    expect(document.paths["/health/ready"].get.security ?? []).toEqual([])
  })
})
