/**
 * @lunarbit/gateway-node: LunarBit Gateway on Node.js.
 */

export { type EmbeddedGateway, type EmbedOptions, embed } from "./embed.ts"
export * as FileReleaseSource from "./FileReleaseSource.ts"
export * as NodeArtifactDigest from "./NodeArtifactDigest.ts"
export * as NodeGateway from "./NodeGateway.ts"
export * as PinoLogger from "./PinoLogger.ts"
