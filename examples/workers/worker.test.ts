import { fileURLToPath } from "node:url"
import { Miniflare } from "miniflare"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { bundleWorker, wranglerSetting } from "../../packages/adapter-workers/test/bundle.ts"

const admin = "lbapi_example_worker_admin_key_0123456789"
const dir = fileURLToPath(new URL(".", import.meta.url))

describe("the Worker with a bundled catalog", () => {
  let miniflare: Miniflare

  beforeAll(async () => {
    miniflare = new Miniflare({
      modules: true,
      script: await bundleWorker(dir),
      compatibilityDate: wranglerSetting("compatibility_date", dir),
      // No CATALOG binding: the catalog is part of the bundle.
      bindings: { API_KEY_ADMIN: admin, LOG_LEVEL: "warn" }
    })
  })
  afterAll(async () => {
    await miniflare?.dispose()
  })

  it("serves the catalog it was built with", async () => {
    const response = await miniflare.dispatchFetch("http://gateway.test/api/v2/projects/trackly", {
      headers: { authorization: `Bearer ${admin}` }
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ id: "trackly", latest_version: "1.2.5" })
  })

  it("still reads its other bindings", async () => {
    const response = await miniflare.dispatchFetch("http://gateway.test/projects")
    expect(response.status).toBe(401)
  })
})
