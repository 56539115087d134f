import { afterAll } from "@effect/vitest"
import { rateLimitStoreSuite } from "@lunarbit/gateway-core/testing"
import { Effect, Layer } from "effect"
import { Miniflare } from "miniflare"
import type { DurableObjectNamespace } from "../../src/Cloudflare.ts"
import * as DurableObjectRateLimitStore from "../../src/DurableObjectRateLimitStore.ts"
import { bundleWorker, wranglerSetting } from "../bundle.ts"

// The Worker as deployed, whose entry exports the Durable Object class; the suite calls the objects
// in workerd through Miniflare's binding proxy, as the Worker's own requests do.
const miniflare = bundleWorker().then(
  (script) =>
    new Miniflare({
      modules: true,
      script,
      compatibilityDate: wranglerSetting("compatibility_date"),
      durableObjects: { RATE_LIMITER: "RateLimiterObject" }
    })
)
afterAll(async () => (await miniflare).dispose())

rateLimitStoreSuite(
  "Durable Objects in workerd",
  Layer.unwrap(
    Effect.promise(async () =>
      DurableObjectRateLimitStore.layer(
        // Miniflare types its proxy with its own copy of the Workers types.
        (await (await miniflare).getDurableObjectNamespace("RATE_LIMITER")) as unknown as DurableObjectNamespace
      )
    )
  )
)
