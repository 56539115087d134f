import { DownloadStore, type Errors, KeyStore, RateLimitStore, ReleaseSource } from "@lunarbit/gateway-core"
import { Effect, Layer } from "effect"
import { catalogDocument, type WorkerBindings } from "./WorkerBindings.ts"

/**
 * The ports a Worker serves from its bindings: the catalog of the `CATALOG` binding, held in memory;
 * API keys, download counts and rate-limit buckets kept in the isolate's memory, so a key created
 * through `/admin/keys` lasts only as long as the isolate and `API_KEY_ADMIN` is the lasting
 * credential. Building it fails with `InvalidCatalog` when the binding is missing or does not pass
 * the core's checks.
 */
export const layer = (
  env: WorkerBindings
): Layer.Layer<
  ReleaseSource.ReleaseSource | KeyStore.KeyStore | DownloadStore.DownloadStore | RateLimitStore.RateLimitStore,
  Errors.InvalidCatalog
> =>
  Layer.mergeAll(
    Layer.unwrap(Effect.map(catalogDocument(env.CATALOG), ReleaseSource.layerMemory)),
    KeyStore.layerMemory(),
    DownloadStore.layerMemory,
    RateLimitStore.layerMemory
  )
