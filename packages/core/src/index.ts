/**
 * @lunarbit/gateway-core: the runtime-free heart of LunarBit Gateway. No `node:*`, no `process`;
 * the runtime adapters supply the ports and the configuration.
 */

export * as GatewayConfig from "./config/GatewayConfig.ts"
export * as Catalog from "./domain/Catalog.ts"
export * as CatalogIndex from "./domain/CatalogIndex.ts"
export * as CatalogLoader from "./domain/CatalogLoader.ts"
export * as KeyHash from "./domain/KeyHash.ts"
export * as Permissions from "./domain/Permissions.ts"
export * as Semver from "./domain/Semver.ts"
export * as UpdatePolicy from "./domain/UpdatePolicy.ts"
export * as Errors from "./errors/Errors.ts"
export * as GatewayError from "./errors/GatewayError.ts"
export * as Gateway from "./Gateway.ts"
export * as Api from "./http/Api.ts"
export * as Edge from "./http/Edge.ts"
export * as ErrorEnvelope from "./http/ErrorEnvelope.ts"
export * as Redaction from "./logging/Redaction.ts"
export * as DownloadStore from "./ports/DownloadStore.ts"
export * as KeyStore from "./ports/KeyStore.ts"
export * as ReleaseSource from "./ports/ReleaseSource.ts"
export * as Authentication from "./services/Authentication.ts"
export * as Releases from "./services/Releases.ts"
export * as Updates from "./services/Updates.ts"
export { VERSION } from "./Version.ts"
