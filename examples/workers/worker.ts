import { env } from "cloudflare:workers"
import { WorkerHandler } from "@lunarbit/gateway-workers"
import catalog from "../catalog.json" with { type: "json" }

/**
 * The gateway with its catalog bundled into the Worker rather than bound: Cloudflare limits a
 * variable or a secret to 5 KB, a module is limited only by the Worker's size. The other bindings
 * (API_KEY_ADMIN, LOG_LEVEL, DB, RATE_LIMITER, ...) are read as usual.
 */
export default WorkerHandler.make({ ...env, CATALOG: catalog })

/** The rate-limit buckets' Durable Object, for a `RATE_LIMITER` binding. */
export { RateLimiterObject } from "@lunarbit/gateway-workers"
