/**
 * @lunarbit/gateway-workers: LunarBit Gateway on Cloudflare Workers. `worker.ts` is the ready
 * module Worker; these modules let you build your own Worker around the same handler.
 */

export * as JsonConsoleLog from "./JsonConsoleLog.ts"
export * as Misconfigured from "./Misconfigured.ts"
export * as WorkerBindings from "./WorkerBindings.ts"
export * as WorkerHandler from "./WorkerHandler.ts"
export * as WorkerPorts from "./WorkerPorts.ts"
export * as WorkerRuntime from "./WorkerRuntime.ts"
