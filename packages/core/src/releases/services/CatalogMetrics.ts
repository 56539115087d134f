import { Clock, Effect } from "effect"
import type { Registry } from "../../observability/Metrics.ts"
import type { ReleaseSourceShape } from "../ports/ReleaseSource.ts"

// Sources are configured (a file, a few repositories), not chosen by clients.
const maxSeries = 200

/**
 * The catalog's sources as scraped: each source's health (1 ok, 0 degraded) and the seconds since
 * its last successful synchronisation (absent until it has had one), read from `source.health`.
 */
export const register = (registry: Registry, source: ReleaseSourceShape): void => {
  const up = registry.gauge("lunarbit_catalog_source_up", {
    help: "Whether a catalog source's last synchronisation succeeded (1) or it is serving a stale catalog (0)",
    labels: ["source"],
    maxSeries
  })
  const age = registry.gauge("lunarbit_catalog_source_last_success_age_seconds", {
    help: "Seconds since a catalog source's last successful synchronisation",
    labels: ["source"],
    maxSeries
  })
  registry.onScrape(
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      for (const health of yield* source.health) {
        up.set([health.name], health.status === "ok" ? 1 : 0)
        const at = health.lastSuccessAt === undefined ? Number.NaN : Date.parse(health.lastSuccessAt)
        if (!Number.isNaN(at)) age.set([health.name], Math.max(0, (now - at) / 1000))
      }
    })
  )
}
