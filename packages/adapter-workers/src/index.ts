/**
 * @lunarbit/gateway-workers: LunarBit Gateway on Cloudflare Workers. `worker.ts` is the ready
 * module Worker; these modules let you build your own Worker around the same handler.
 */

export * as Cloudflare from "./Cloudflare.ts"
export * as D1DownloadStore from "./D1DownloadStore.ts"
export * as D1KeyStore from "./D1KeyStore.ts"
export * as DurableObjectRateLimitStore from "./DurableObjectRateLimitStore.ts"
/** The rate-limit buckets' Durable Object class: export it from your Worker's entry to bind it. */
export { RateLimiterObject } from "./DurableObjectRateLimitStore.ts"
export * as JsonConsoleLog from "./JsonConsoleLog.ts"
export * as Misconfigured from "./Misconfigured.ts"
export * as WorkerBindings from "./WorkerBindings.ts"
export * as WorkerHandler from "./WorkerHandler.ts"
export * as WorkerPorts from "./WorkerPorts.ts"
export * as WorkerRuntime from "./WorkerRuntime.ts"
