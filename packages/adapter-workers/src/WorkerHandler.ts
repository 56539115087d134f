import { Gateway, GatewayConfig, Tracing } from "@lunarbit/gateway-core"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import type { ExecutionContext, ScheduledController } from "./Cloudflare.ts"
import * as JsonConsoleLog from "./JsonConsoleLog.ts"
import * as Misconfigured from "./Misconfigured.ts"
import { configProvider, type WorkerBindings } from "./WorkerBindings.ts"
import * as WorkerPorts from "./WorkerPorts.ts"
import * as WorkerRuntime from "./WorkerRuntime.ts"
import * as WorkerTracing from "./WorkerTracing.ts"

/**
 * A module Worker's handlers, with the runtime's arguments: the bindings (unused: the gateway was
 * built from them) and the execution context (omit both in process).
 */
export interface Worker {
  readonly fetch: (request: Request, env?: unknown, ctx?: ExecutionContext) => Promise<Response>
  /** The cron trigger: synchronises the GitHub releases into KV. */
  readonly scheduled: (controller: ScheduledController, env?: unknown, ctx?: ExecutionContext) => Promise<void>
}

const refusing = (fetch: (request: Request) => Promise<Response>): Worker => ({
  fetch: (request) => fetch(request),
  // Nothing to synchronise with: every request reports the problem, and the first one logs it.
  scheduled: () => Promise.resolve()
})

/**
 * The gateway as a module Worker, built from the Worker's bindings: `export default` it, or call
 * its handlers from your own. Build it once per isolate, at module scope (bindings do not change
 * within an isolate), and reuse it for every event: the layers are built right away, and fibers
 * started at module scope belong to no request.
 *
 * After each response it writes what the request counted (usage, downloads) through
 * `ctx.waitUntil`: a Worker keeps no timer between requests, so nothing is written in the
 * background. For the same reason GitHub releases are synchronised by the cron trigger.
 *
 * It never throws and never rejects: a missing admin key, an invalid variable or an invalid catalog
 * makes every request answer the error envelope, and the first one logs what is wrong.
 */
export const make = (env: WorkerBindings): Worker => {
  // Reading string bindings is synchronous, so a bad variable is known before anything is built.
  const configured = Effect.runSyncExit(GatewayConfig.config.parse(configProvider(env)))
  if (Exit.isFailure(configured)) {
    return refusing(
      Misconfigured.make(Misconfigured.fallbackConfig(env), Misconfigured.fromFailure(Cause.squash(configured.cause)))
    )
  }
  const config = configured.value
  // The credential that creates every other key, and the one a Worker without D1 keeps. Checked before
  // building, too: without it or KEY_HASH_SECRET the core draws a random hashing secret, and Workers
  // forbid random values at module scope.
  if (Option.isNone(config.adminKey)) return refusing(Misconfigured.make(config, Misconfigured.missingAdminKey))

  const runtime = WorkerRuntime.context(config.logLevel)
  // OTEL_EXPORTER_OTLP_ENDPOINT: spans over fetch; an invalid setting leaves tracing off.
  const traced = Effect.runSyncExit(Tracing.exportOptions.parse(configProvider(env)))
  const tracing = WorkerTracing.make(Exit.isSuccess(traced) ? traced.value : undefined, runtime)
  const ports = WorkerPorts.make(env, config)
  if (ports.perIsolate.length > 0) JsonConsoleLog.write("warn", WorkerPorts.perIsolateNotice(ports.perIsolate))
  const { handler } = Gateway.webHandler(
    Layer.mergeAll(
      GatewayConfig.GatewayConfig.layerWith(config),
      ports.layer,
      Layer.succeedContext(runtime),
      tracing.layer
    )
  )
  const run = Effect.runPromiseWith(runtime)
  const flush = () => Promise.all([run(ports.flush), tracing.flush()])
  const sync = ports.sync
  // The handler rejects only when its layers failed to build, as with a catalog that fails the checks.
  let misconfigured: ((request: Request) => Promise<Response>) | undefined
  return {
    fetch: (request, _env, ctx) =>
      tracing
        .contextFor()
        .then((context) => handler(request, context))
        .then(
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
        ),
    scheduled: (controller, _env, ctx) => {
      if (sync === undefined) {
        JsonConsoleLog.write("info", "Cron trigger: no GITHUB_PROJECTS, nothing to synchronise", {
          cron: controller.cron
        })
        return Promise.resolve()
      }
      // Synchronisation never fails: a repository that failed is an outcome, logged with the others.
      const done = run(sync).then((outcomes) =>
        JsonConsoleLog.write("info", "GitHub releases synchronised", { cron: controller.cron, outcomes })
      )
      ctx?.waitUntil(done)
      return done
    }
  }
}
