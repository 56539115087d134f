import { Config, Context, Effect, Layer, Option } from "effect"
import { FetchHttpClient, HttpMiddleware, HttpTraceContext } from "effect/http"
import { OtlpExporter, OtlpSerialization, OtlpTracer } from "effect/observability"
import { VERSION } from "../Version.ts"

/**
 * Whether spans are exported. Off (the default), the gateway creates no spans of its own on the
 * request path and sends no `traceparent` upstream, so tracing costs nothing when nobody collects.
 */
export const Enabled = Context.Reference<boolean>("@lunarbit/gateway-core/TracingEnabled", {
  defaultValue: () => false
})

/** The headers of no trace: `propagationHeaders` answers this very object when there is none to send. */
export const noTrace: Readonly<Record<string, string>> = {}

/**
 * The W3C `traceparent` of the current span, for an upstream request (AI providers, GitHub) to
 * join the trace; no header when tracing is off or no span is running.
 */
export const propagationHeaders: Effect.Effect<Readonly<Record<string, string>>> = Effect.withFiber((fiber) =>
  fiber.getRef(Enabled)
    ? Effect.map(Effect.option(Effect.currentSpan), (span) =>
        Option.isSome(span) ? { traceparent: HttpTraceContext.toHeaders(span.value).traceparent! } : noTrace
      )
    : Effect.succeed(noTrace)
)

/** Where spans go: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
export const endpoint: Config.Config<Option.Option<string>> = Config.option(
  Config.String("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").pipe(
    Config.orElse(() =>
      Config.String("OTEL_EXPORTER_OTLP_ENDPOINT").pipe(Config.map((base) => `${base.replace(/\/+$/, "")}/v1/traces`))
    )
  )
)

/**
 * The share of requests traced when the caller did not decide (0 to 1): a caller's `traceparent`
 * is followed, sampled or not, so one trace is never cut in pieces.
 */
export const SampleRatio = Context.Reference<number>("@lunarbit/gateway-core/TraceSampleRatio", {
  defaultValue: () => 1
})

export interface ExportOptions {
  readonly url: string
  /** See `SampleRatio`; 1 (every request) by default. */
  readonly sampleRatio?: number | undefined
  readonly serviceName?: string | undefined
  /** How often batches are sent; the rest is flushed when the layer closes. */
  readonly exportIntervalMs?: number | undefined
}

/**
 * Exports spans as OTLP/HTTP JSON over `fetch`, so it runs unchanged on Node and Workers, and turns
 * `Enabled` on. Closing the layer flushes the spans not yet sent.
 */
export const layerOtlp = (options: ExportOptions): Layer.Layer<OtlpExporter.Flusher> =>
  Layer.mergeAll(
    OtlpTracer.layer({
      url: options.url,
      resource: { serviceName: options.serviceName ?? "lunarbit-gateway", serviceVersion: VERSION },
      exportInterval: options.exportIntervalMs ?? 5_000
    }).pipe(Layer.provide(OtlpSerialization.layerJson), Layer.provide(FetchHttpClient.layer)),
    Layer.succeed(Enabled, true),
    Layer.succeed(SampleRatio, options.sampleRatio ?? 1),
    // The edge's own server span (`EdgeTracing.serverSpan`) replaces the HTTP server's: it carries
    // the path redacted as the access log has it, where the server's would record the raw URL and query.
    Layer.succeed(HttpMiddleware.TracerDisabledWhen, () => true)
  )

/** OTLP export as the configuration says; `undefined` when it is off. */
export const exportOptions: Config.Config<ExportOptions | undefined> = Config.all({
  url: endpoint,
  disabled: Config.Boolean("OTEL_SDK_DISABLED").pipe(Config.withDefault(false)),
  serviceName: Config.option(Config.String("OTEL_SERVICE_NAME")),
  delay: Config.option(Config.Int("OTEL_BSP_SCHEDULE_DELAY")),
  sampler: Config.Literals(
    ["always_on", "parentbased_always_on", "traceidratio", "parentbased_traceidratio"],
    "OTEL_TRACES_SAMPLER"
  ).pipe(Config.withDefault("parentbased_always_on" as const)),
  ratio: Config.Number("OTEL_TRACES_SAMPLER_ARG").pipe(
    Config.withDefault(1),
    Config.map((ratio) => Math.min(1, Math.max(0, ratio)))
  )
}).pipe(
  Config.map(({ url, disabled, serviceName, delay, sampler, ratio }) =>
    Option.isNone(url) || disabled
      ? undefined
      : {
          url: url.value,
          serviceName: Option.getOrUndefined(serviceName),
          exportIntervalMs: Option.getOrUndefined(delay),
          sampleRatio: sampler.endsWith("traceidratio") ? ratio : 1
        }
  )
)

/**
 * Tracing as the configuration says: OTLP export when `OTEL_EXPORTER_OTLP_ENDPOINT` (or the
 * traces-specific variable) is set and `OTEL_SDK_DISABLED` is not `true`; nothing otherwise.
 * `OTEL_SERVICE_NAME` names the service (`lunarbit-gateway`); `OTEL_BSP_SCHEDULE_DELAY` is the
 * milliseconds between batches (5000); `OTEL_TRACES_SAMPLER=parentbased_traceidratio` with
 * `OTEL_TRACES_SAMPLER_ARG=0.1` traces a tenth of the requests whose caller did not decide.
 */
export const layerConfig: Layer.Layer<never, Config.ConfigError> = Layer.unwrap(
  Effect.map(exportOptions, (options) => (options === undefined ? Layer.empty : layerOtlp(options)))
)

/**
 * Sends the spans ended so far, for hosts whose timers do not outlive a request (a Worker calls it
 * through `ctx.waitUntil` after each response); nothing when no exporter is in context.
 */
export const flush: Effect.Effect<void> = Effect.flatMap(Effect.serviceOption(OtlpExporter.Flusher), (flusher) =>
  Option.isSome(flusher) ? flusher.value.flush : Effect.void
)
