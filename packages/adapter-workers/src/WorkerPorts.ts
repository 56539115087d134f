import {
  CatalogLoader,
  DownloadStore,
  type Errors,
  KeyStore,
  RateLimitStore,
  ReleaseSource,
  UsageFlush
} from "@lunarbit/gateway-core"
import { Effect, Layer } from "effect"
import { isD1, isDurableObjectNamespace } from "./Cloudflare.ts"
import * as D1DownloadStore from "./D1DownloadStore.ts"
import * as D1KeyStore from "./D1KeyStore.ts"
import * as DurableObjectRateLimitStore from "./DurableObjectRateLimitStore.ts"
import { catalogDocument, type WorkerBindings } from "./WorkerBindings.ts"

/** The ports of a Worker, and what it must do after each response. */
export interface WorkerPorts {
  readonly layer: Layer.Layer<
    ReleaseSource.ReleaseSource | KeyStore.KeyStore | DownloadStore.DownloadStore | RateLimitStore.RateLimitStore,
    Errors.InvalidCatalog
  >
  /** Writes the usage and downloads this isolate counted since the last flush; for `ctx.waitUntil`. */
  readonly flush: Effect.Effect<void>
  /** The state this Worker keeps in the isolate's memory for want of a binding; empty when it has them all. */
  readonly perIsolate: ReadonlyArray<string>
}

/** What `/health` and the log say when some state lives in the isolate only. */
export const perIsolateNotice = (perIsolate: ReadonlyArray<string>): string =>
  `${perIsolate.join(", ")} live in this isolate's memory only: each isolate counts and forgets on its own. ` +
  "Bind a D1 database as DB and the RateLimiterObject Durable Object as RATE_LIMITER to keep them."

/**
 * The ports a Worker serves from its bindings:
 *
 * - the catalog of the `CATALOG` binding, held in memory;
 * - with a D1 database bound as `DB`: API keys, their usage, the audit log and download counts
 *   there, shared by every isolate; usage and downloads are counted in memory and written by `flush`;
 * - with the `RateLimiterObject` namespace bound as `RATE_LIMITER`: exact rate limits, one object
 *   per bucket;
 * - without them, the same state in the isolate's memory (named in `perIsolate`).
 *
 * Building the layer fails with `InvalidCatalog` when the catalog binding is missing or invalid.
 */
export const make = (env: WorkerBindings): WorkerPorts => {
  let usageFlush: Effect.Effect<void> = Effect.void
  const perIsolate: Array<string> = []
  const db = isD1(env.DB) ? env.DB : undefined
  const downloads = db === undefined ? undefined : D1DownloadStore.make(db)
  if (db === undefined) perIsolate.push("API keys, usage, the audit log, download counts")
  const limiter = isDurableObjectNamespace(env.RATE_LIMITER) ? env.RATE_LIMITER : undefined
  if (limiter === undefined) perIsolate.push("rate limits")

  const source = Layer.effect(
    ReleaseSource.ReleaseSource,
    Effect.map(Effect.flatMap(catalogDocument(env.CATALOG), CatalogLoader.load), (index) => {
      const catalog = ReleaseSource.make({ name: "memory", catalog: Effect.succeed(index) })
      if (perIsolate.length === 0) return catalog
      // The only place a client can see it: the state's health is the gateway's.
      const state = { name: "state", status: "degraded" as const, lastError: perIsolateNotice(perIsolate) }
      return { ...catalog, health: Effect.map(catalog.health, (sources) => [...sources, state]) }
    })
  )

  return {
    layer: Layer.mergeAll(
      source,
      db === undefined ? KeyStore.layerMemory() : D1KeyStore.layer(db),
      downloads === undefined ? DownloadStore.layerMemory : Layer.succeed(DownloadStore.DownloadStore, downloads.store),
      limiter === undefined ? RateLimitStore.layerMemory : DurableObjectRateLimitStore.layer(limiter),
      UsageFlush.handOver((flush) => {
        usageFlush = flush
      })
    ) as WorkerPorts["layer"],
    flush: Effect.suspend(() =>
      Effect.all([usageFlush, downloads?.flush ?? Effect.void], { concurrency: "unbounded", discard: true })
    ),
    perIsolate
  }
}
