import { Tracing } from "@lunarbit/gateway-core"
import { Context, Effect, Layer, Scope } from "effect"

/** OTLP tracing in a Worker, where module scope may neither set timers nor draw random values. */
export interface WorkerTracing {
  /** Merged into the gateway's layers: turns the edge's spans on when tracing is configured. */
  readonly layer: Layer.Layer<never>
  /** The context a request runs with: `runtime`, plus the exporting tracer once tracing is on. */
  readonly contextFor: () => Promise<Context.Context<never>>
  /** Sends the spans ended so far; the Worker hands it to `ctx.waitUntil` after each response. */
  readonly flush: () => Promise<void>
}

/**
 * Tracing as `options` (from `Tracing.exportOptions`) says, over the Worker's `runtime` context.
 * The exporter is built by the first request, since a Worker's module scope may not start its
 * timer; spans go out over `fetch` after each response rather than on a timer, which a Worker does
 * not keep between requests.
 */
export const make = (options: Tracing.ExportOptions | undefined, runtime: Context.Context<never>): WorkerTracing => {
  if (options === undefined) {
    return { layer: Layer.empty, contextFor: () => Promise.resolve(runtime), flush: () => Promise.resolve() }
  }
  let built: Promise<Context.Context<never>> | undefined
  const contextFor = () =>
    (built ??= Effect.runPromiseWith(runtime)(
      Layer.buildWithScope(Tracing.layerOtlp(options), Scope.makeUnsafe())
    ).then((tracing) => Context.merge(runtime, tracing as Context.Context<never>)))
  return {
    layer: Layer.succeed(Tracing.Enabled, true) as Layer.Layer<never>,
    contextFor,
    flush: () =>
      built === undefined ? Promise.resolve() : built.then((context) => Effect.runPromiseWith(context)(Tracing.flush))
  }
}
