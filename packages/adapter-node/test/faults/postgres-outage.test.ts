import { ApiKeyFormat } from "@lunarbit/gateway-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auth, type RunningGateway, startGateway } from "../support/gateway.ts"
import { waitFor } from "../support/process.ts"
import { type InterruptibleServer, interruptiblePostgres } from "../support/services.ts"

const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

const get = async (gateway: RunningGateway, path: string, headers: Record<string, string>) => {
  const started = Date.now()
  const response = await fetch(gateway.url(path), { headers, signal: AbortSignal.timeout(10_000) })
  return { response, ms: Date.now() - started, body: (await response.json()) as any }
}

describe("a PostgreSQL outage under key lookup", () => {
  let postgres: InterruptibleServer
  let gateway: RunningGateway
  beforeAll(async () => {
    postgres = await interruptiblePostgres()
    gateway = await startGateway({ DATABASE_URL: postgres.url })
  }, 60_000)
  afterAll(async () => {
    await gateway?.close()
    await postgres?.close()
  })

  it("answers 503 with Retry-After for keys it cannot check, keeps verified keys working, and recovers", async () => {
    const created = await fetch(gateway.url("/admin/keys"), {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ name: "verified", permissions: { canReadProjects: true } })
    })
    const key = ((await created.json()) as { key: string }).key
    expect((await get(gateway, "/projects", bearer(key))).response.status).toBe(200)

    await postgres.pause()
    // Past the second a verified key is remembered, so the store is asked again and cannot answer.
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    const verified = await get(gateway, "/projects", bearer(key))
    expect(verified.response.status).toBe(200)

    const unknown = await get(gateway, "/projects", bearer(ApiKeyFormat.generate()))
    expect(unknown.response.status).toBe(503)
    expect(unknown.body.error.code).toBe("SERVICE_UNAVAILABLE")
    expect(Number(unknown.response.headers.get("retry-after"))).toBeGreaterThan(0)
    expect(unknown.body.error.request_id).toBe(unknown.response.headers.get("x-request-id"))
    expect(unknown.ms).toBeLessThan(5_000)
    const ready = await get(gateway, "/health/ready", {})
    expect(ready.response.status).toBe(503)
    expect(ready.body.error.details.checks.keys).toBe("unavailable")

    await postgres.resume()
    await waitFor(async () => (await get(gateway, "/health/ready", {})).response.status === 200, 20_000)
    // Unknown keys are refused as unknown again, not as an outage.
    const after = await get(gateway, "/projects", bearer(ApiKeyFormat.generate()))
    expect(after.response.status).toBe(401)
    expect((await get(gateway, "/projects", bearer(key))).response.status).toBe(200)
  }, 90_000)
})
