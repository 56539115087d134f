import { env } from "cloudflare:workers"
import type { ExecutionContext } from "./Cloudflare.ts"
import * as WorkerHandler from "./WorkerHandler.ts"

/**
 * The module Worker (`main` in wrangler.toml). The gateway is built at module scope, once per
 * isolate, from the bindings `cloudflare:workers` exposes there: fibers started inside `fetch`
 * would belong to the request that started them (see `HttpRouter.toWebHandler`).
 */
const gateway = WorkerHandler.make(env)

export default {
  fetch: (request: Request, _env: unknown, ctx: ExecutionContext): Promise<Response> => gateway(request, ctx)
}

/** The rate-limit buckets' Durable Object, bound as `RATE_LIMITER` in wrangler.toml. */
export { RateLimiterObject } from "./DurableObjectRateLimitStore.ts"
