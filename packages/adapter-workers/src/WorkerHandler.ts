import { Gateway, GatewayConfig } from "@lunarbit/gateway-core"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import * as Misconfigured from "./Misconfigured.ts"
import { configProvider, type WorkerBindings } from "./WorkerBindings.ts"
import * as WorkerPorts from "./WorkerPorts.ts"
import * as WorkerRuntime from "./WorkerRuntime.ts"

/**
 * The gateway as a Worker's fetch function, built from the Worker's bindings. Call it once per
 * isolate, at module scope (bindings do not change within an isolate), and reuse it for every
 * request: the layers are built right away, and fibers started at module scope belong to no request.
 *
 * It never throws and never rejects: a missing admin key, an invalid variable or an invalid catalog
 * makes every request answer the error envelope, and the first one logs what is wrong.
 */
export const make = (env: WorkerBindings): ((request: Request) => Promise<Response>) => {
  // Reading string bindings is synchronous, so a bad variable is known before anything is built.
  const configured = Effect.runSyncExit(GatewayConfig.config.parse(configProvider(env)))
  if (Exit.isFailure(configured)) {
    return Misconfigured.make(
      Misconfigured.fallbackConfig(env),
      Misconfigured.fromFailure(Cause.squash(configured.cause))
    )
  }
  const config = configured.value
  // A Worker keeps no key beyond an isolate's life, so this is its one lasting credential. Checked before
  // building, too: without it or KEY_HASH_SECRET the core draws a random hashing secret, and Workers
  // forbid random values at module scope.
  if (Option.isNone(config.adminKey)) return Misconfigured.make(config, Misconfigured.missingAdminKey)

  const runtime = WorkerRuntime.context(config.logLevel)
  const { handler } = Gateway.webHandler(
    Layer.mergeAll(GatewayConfig.GatewayConfig.layerWith(config), WorkerPorts.layer(env), Layer.succeedContext(runtime))
  )
  // The handler rejects only when its layers failed to build, as with a catalog that fails the checks.
  let misconfigured: ((request: Request) => Promise<Response>) | undefined
  return (request) =>
    handler(request, runtime).catch((failure: unknown) => {
      misconfigured ??= Misconfigured.make(config, Misconfigured.fromFailure(failure))
      return misconfigured(request)
    })
}
