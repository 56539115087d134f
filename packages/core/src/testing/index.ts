import { ConfigProvider, Layer } from "effect"
import * as KeyStore from "../access/ports/KeyStore.ts"
import * as RateLimitStore from "../access/ports/RateLimitStore.ts"
import { GatewayConfig } from "../config/GatewayConfig.ts"
import * as DownloadStore from "../releases/ports/DownloadStore.ts"
import * as ReleaseSource from "../releases/ports/ReleaseSource.ts"
import * as RolloutStore from "../releases/ports/RolloutStore.ts"

/**
 * Every port in memory plus a configuration read from `env`, the way a test or an embedder
 * assembles a gateway without a runtime adapter.
 */
export const memoryPorts = (options: {
  readonly catalog: unknown
  readonly env?: Record<string, string> | undefined
  readonly keys?: Iterable<KeyStore.StoredKey> | undefined
}) =>
  Layer.mergeAll(
    GatewayConfig.layer,
    ReleaseSource.layerMemory(options.catalog),
    KeyStore.layerMemory(options.keys),
    DownloadStore.layerMemory,
    RateLimitStore.layerMemory,
    RolloutStore.layerMemory
  ).pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(options.env ?? {}))))

export { keyStoreSuite } from "./keyStoreSuite.ts"
export { rateLimitStoreSuite } from "./rateLimitStoreSuite.ts"
export { rolloutStoreSuite } from "./rolloutStoreSuite.ts"
