import { Gateway, GatewayConfig } from "@lunarbit/gateway-core"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import type { ExecutionContext } from "./Cloudflare.ts"
import * as JsonConsoleLog from "./JsonConsoleLog.ts"
import * as Misconfigured from "./Misconfigured.ts"
import { configProvider, type WorkerBindings } from "./WorkerBindings.ts"
import * as WorkerPorts from "./WorkerPorts.ts"
import * as WorkerRuntime from "./WorkerRuntime.ts"

/** A Worker's fetch function; `ctx` is the Worker's execution context (omit it in process). */
export type Handler = (request: Request, ctx?: ExecutionContext) => Promise<Response>

/**
 * The gateway as a Worker's fetch function, built from the Worker's bindings. Call it once per
 * isolate, at module scope (bindings do not change within an isolate), and reuse it for every
 * request: the layers are built right away, and fibers started at module scope belong to no request.
 *
 * After each response it writes what the request counted (usage, downloads) through
 * `ctx.waitUntil`: a Worker keeps no timer between requests, so nothing is written in the background.
 *
 * It never throws and never rejects: a missing admin key, an invalid variable or an invalid catalog
 * makes every request answer the error envelope, and the first one logs what is wrong.
 */
export const make = (env: WorkerBindings): Handler => {
  // Reading string bindings is synchronous, so a bad variable is known before anything is built.
  const configured = Effect.runSyncExit(GatewayConfig.config.parse(configProvider(env)))
  if (Exit.isFailure(configured)) {
    return Misconfigured.make(
      Misconfigured.fallbackConfig(env),
      Misconfigured.fromFailure(Cause.squash(configured.cause))
    )
  }
  const config = configured.value
  // The credential that creates every other key, and the one a Worker without D1 keeps. Checked before
  // building, too: without it or KEY_HASH_SECRET the core draws a random hashing secret, and Workers
  // forbid random values at module scope.
  if (Option.isNone(config.adminKey)) return Misconfigured.make(config, Misconfigured.missingAdminKey)

  const runtime = WorkerRuntime.context(config.logLevel)
  const ports = WorkerPorts.make(env)
  if (ports.perIsolate.length > 0) JsonConsoleLog.write("warn", WorkerPorts.perIsolateNotice(ports.perIsolate))
  const { handler } = Gateway.webHandler(
    Layer.mergeAll(GatewayConfig.GatewayConfig.layerWith(config), ports.layer, Layer.succeedContext(runtime))
  )
  const flush = () => Effect.runPromiseWith(runtime)(ports.flush)
  // The handler rejects only when its layers failed to build, as with a catalog that fails the checks.
  let misconfigured: ((request: Request) => Promise<Response>) | undefined
  return (request, ctx) =>
    handler(request, runtime).then(
      (response) => {
        // What the request counted is written once the response is on its way; the isolate lives until it is.
        if (ctx === undefined) flush().catch(() => {})
        else ctx.waitUntil(flush())
        return response
      },
      (failure: unknown) => {
        misconfigured ??= Misconfigured.make(config, Misconfigured.fromFailure(failure))
        return misconfigured(request)
      }
    )
}
