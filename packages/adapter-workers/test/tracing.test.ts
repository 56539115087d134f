import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import { Miniflare } from "miniflare"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startOtlpReceiver } from "../../adapter-node/test/support/otlp.ts"
import { waitFor } from "../../adapter-node/test/support/process.ts"
import { bundleWorker, wranglerSetting } from "./bundle.ts"
import { adminKey, gatewayEnv } from "./exchanges.ts"

const catalog = JSON.parse(readFileSync(new URL("../../../examples/catalog.json", import.meta.url), "utf8"))

let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>
let miniflare: Miniflare

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  miniflare = new Miniflare({
    modules: true,
    script: await bundleWorker(),
    compatibilityDate: wranglerSetting("compatibility_date"),
    bindings: { ...gatewayEnv, CATALOG: catalog, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
    handleStructuredLogs: () => {}
  })
  await miniflare.ready
})
afterAll(async () => {
  await miniflare?.dispose()
  await receiver?.close()
})

describe("the Worker with OTEL_EXPORTER_OTLP_ENDPOINT bound", () => {
  it("exports each request's spans over fetch after the response, joined to the caller's trace", async () => {
    const traceId = randomBytes(16).toString("hex")
    const caller = randomBytes(8).toString("hex")
    const response = await miniflare.dispatchFetch(
      "http://gateway.test/projects/trackly/channels/stable/update?current_version=1.1.0&platform=windows&architecture=x64",
      { headers: { authorization: `Bearer ${adminKey}`, traceparent: `00-${traceId}-${caller}-01` } }
    )
    expect(response.status).toBe(200)
    await response.arrayBuffer()

    const names = ["HTTP GET", "gateway.authenticate", "gateway.rate_limit", "gateway.handler"]
    const spans = () => receiver.spans.filter((span) => span.traceId === traceId)
    await waitFor(() => names.every((name) => spans().some((span) => span.name === name)), 10_000)
    const server = spans().find((span) => span.name === "HTTP GET")!
    expect(server.parentSpanId).toBe(caller)
    expect(spans().find((span) => span.name === "gateway.handler")?.attributes["http.route"]).toBe(
      "/projects/:projectId/channels/:channelId/update"
    )
    expect(receiver.bodies.join("\n")).not.toContain(adminKey)
  }, 60_000)
})
