import { Context, type Effect, Layer } from "effect"

/**
 * Who runs the `UsageRecorder`'s flush. By default (`undefined`) the recorder flushes itself from a
 * background fiber every `flushInterval`. A host whose timers do not outlive a request (a Worker)
 * takes the flush instead, with `handOver`, and runs it after each response (`ctx.waitUntil`).
 */
export const UsageFlush = Context.Reference<((flush: Effect.Effect<void>) => void) | undefined>(
  "@lunarbit/gateway-core/UsageFlush",
  { defaultValue: () => undefined }
)

/** Gives the recorder's flush to `take` when the gateway is built; no background flush then runs. */
export const handOver = (take: (flush: Effect.Effect<void>) => void): Layer.Layer<never> =>
  Layer.succeed(UsageFlush, take) as Layer.Layer<never>
