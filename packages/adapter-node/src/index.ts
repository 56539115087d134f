/**
 * @lunarbit/gateway-node: LunarBit Gateway on Node.js.
 */

export * as AdminKey from "./AdminKey.ts"
export { type EmbeddedGateway, type EmbedOptions, embed } from "./embed.ts"
export * as FileReleaseSource from "./FileReleaseSource.ts"
export * as KeyHashSecret from "./KeyHashSecret.ts"
export * as NodeArtifactDigest from "./NodeArtifactDigest.ts"
export * as NodeGateway from "./NodeGateway.ts"
export * as NodeServer from "./NodeServer.ts"
export * as PgKeyStore from "./PgKeyStore.ts"
export * as PgRolloutStore from "./PgRolloutStore.ts"
export * as PinoLogger from "./PinoLogger.ts"
export * as RedisRateLimitStore from "./RedisRateLimitStore.ts"
export * as SqliteDownloadStore from "./SqliteDownloadStore.ts"
export * as SqliteKeyStore from "./SqliteKeyStore.ts"
export * as SqliteRolloutStore from "./SqliteRolloutStore.ts"
export * as StateDir from "./StateDir.ts"
export * as Stores from "./Stores.ts"
export * as UndiciProviderHttp from "./UndiciProviderHttp.ts"
