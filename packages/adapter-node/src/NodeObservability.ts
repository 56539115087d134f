import { Metrics, Tracing } from "@lunarbit/gateway-core"
import { Effect, Layer, Option } from "effect"
import * as NodeMetricsServer from "./NodeMetricsServer.ts"
import * as NodeProcessMetrics from "./NodeProcessMetrics.ts"

/**
 * Metrics when `METRICS_PORT` is set: a registry for the gateway to record into, the process's own
 * figures, and the loopback listener Prometheus scrapes. Unset, no registry exists and nothing is
 * recorded.
 */
export const metricsLayer = Layer.unwrap(
  Effect.gen(function* () {
    const settings = yield* NodeMetricsServer.config
    if (Option.isNone(settings.port)) return Layer.empty
    const port = settings.port.value
    return Layer.effect(
      Metrics.Metrics,
      Effect.gen(function* () {
        const registry = new Metrics.Registry()
        yield* NodeProcessMetrics.register(registry)
        yield* NodeMetricsServer.serve(registry, port, settings.host)
        return registry
      })
    )
  })
)

/** Metrics as above, and OTLP traces when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. */
export const layer = Layer.mergeAll(metricsLayer, Tracing.layerConfig)
