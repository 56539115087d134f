import { env } from "cloudflare:workers"
import * as WorkerHandler from "./WorkerHandler.ts"

/**
 * The module Worker (`main` in wrangler.toml): `fetch` serves the API, `scheduled` (the cron
 * trigger) synchronises the GitHub releases. The gateway is built at module scope, once per
 * isolate, from the bindings `cloudflare:workers` exposes there: fibers started inside `fetch`
 * would belong to the request that started them (see `HttpRouter.toWebHandler`).
 */
export default WorkerHandler.make(env)

/** The rate-limit buckets' Durable Object, bound as `RATE_LIMITER` in wrangler.toml. */
export { RateLimiterObject } from "./DurableObjectRateLimitStore.ts"
