import { once } from "node:events"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { adminKey, type RunningGateway, startGateway } from "./support/gateway.ts"
import { type GatewayProcess, startProcess, waitFor } from "./support/process.ts"

describe("what operators and proxies see", () => {
  let gateway: RunningGateway
  beforeAll(async () => {
    gateway = await startGateway()
  })
  afterAll(() => gateway.close())

  it("names the allowed methods of a 405 in Allow", async () => {
    const response = await fetch(gateway.url("/health"), { method: "DELETE" })
    expect(response.status).toBe(405)
    expect(response.headers.get("allow")).toBe("GET, HEAD")
    expect(((await response.json()) as any).error.code).toBe("METHOD_NOT_ALLOWED")
  })

  it("adopts a safe incoming X-Request-Id so traces join, and replaces an unsafe one", async () => {
    const adopted = await fetch(gateway.url("/health"), { headers: { "x-request-id": "edge-7f3a.01:b" } })
    expect(adopted.headers.get("x-request-id")).toBe("edge-7f3a.01:b")
    expect(gateway.logs.some((line) => line.request_id === "edge-7f3a.01:b")).toBe(true)
    const refused = await fetch(gateway.url("/projects"), { headers: { "x-request-id": 'a b"{}' } })
    const id = refused.headers.get("x-request-id")
    expect(id).toMatch(/^req_[a-z0-9]{20}$/)
    expect(((await refused.json()) as any).error.request_id).toBe(id)
  })
})

describe("the process's own lines", () => {
  let started: GatewayProcess | undefined
  afterEach(() => {
    started?.child.kill("SIGKILL")
  })

  it("exits 0 on SIGTERM after a shutdown line, in JSON", async () => {
    started = await startProcess({ API_KEY_ADMIN: adminKey })
    const exited = once(started.child, "exit")
    started.child.kill("SIGTERM")
    const [code] = await exited
    expect(code).toBe(0)
    const lines = started.output().trim().split("\n")
    expect(JSON.parse(lines.at(-1)!).msg).toBe("Shut down: requests in flight finished")
  })

  it("logs a failed start as a fatal JSON line and exits 1", async () => {
    started = await startProcess({ NODE_ENV: "production" })
    await waitFor(() => started!.child.exitCode !== null)
    expect(started.child.exitCode).toBe(1)
    const fatal = started
      .output()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line))
      .find((line) => line.level === 60)
    expect(fatal.msg).toBe("The gateway stopped")
    expect(JSON.stringify(fatal)).toContain("API_KEY_ADMIN is required when NODE_ENV=production")
  })
})
