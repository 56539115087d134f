/**
 * A launcher that keeps an application up to date through LunarBit Gateway, with the typed client
 * from `@lunarbit/gateway-core/client`: it asks whether a newer build exists for this machine,
 * downloads it, and keeps it only when its SHA-256 is the one the gateway published.
 *
 *   GATEWAY_URL=http://localhost:3000 API_KEY=lbapi_... PROJECT=trackly CURRENT_VERSION=1.1.0 \
 *     node --conditions=@lunarbit/source examples/launcher-client/launcher.ts
 */
import { createHash } from "node:crypto"
import { createWriteStream } from "node:fs"
import { mkdir, rename, rm } from "node:fs/promises"
import { join } from "node:path"
import { Readable, Transform } from "node:stream"
import { pipeline } from "node:stream/promises"
import type { ReadableStream as WebReadableStream } from "node:stream/web"
import { createClient } from "@lunarbit/gateway-core/client"

export interface Installation {
  readonly gatewayUrl: string
  readonly apiKey: string
  readonly projectId: string
  readonly channel: string
  readonly currentVersion: string
  readonly platform: "windows" | "macos" | "linux"
  readonly architecture: "x64" | "arm64"
  /** Where downloaded builds are kept. */
  readonly directory: string
}

export type Outcome =
  | { readonly updated: false; readonly version: string }
  | { readonly updated: true; readonly version: string; readonly file: string; readonly breaking: boolean }

/** The update the gateway offers this installation, downloaded and verified; or `updated: false`. */
export const update = async (installation: Installation): Promise<Outcome> => {
  const gateway = createClient({ baseUrl: installation.gatewayUrl, apiKey: installation.apiKey })
  const offer = await gateway.updates.check(installation.projectId, installation.channel, {
    current_version: installation.currentVersion,
    platform: installation.platform,
    architecture: installation.architecture
  })
  if (!offer.update_available) return { updated: false, version: installation.currentVersion }

  await mkdir(installation.directory, { recursive: true })
  const file = join(installation.directory, new URL(offer.download_url).pathname.split("/").at(-1) ?? "update")
  const partial = `${file}.partial`
  const response = await fetch(offer.download_url)
  if (!response.ok || response.body === null) throw new Error(`download failed: ${response.status}`)
  const sha256 = createHash("sha256")
  const hashing = new Transform({
    transform(chunk, _encoding, done) {
      sha256.update(chunk)
      done(null, chunk)
    }
  })
  await pipeline(Readable.fromWeb(response.body as WebReadableStream), hashing, createWriteStream(partial))
  const digest = sha256.digest("hex")
  if (digest !== offer.checksum.sha256) {
    await rm(partial, { force: true })
    throw new Error(`checksum mismatch for ${offer.latest_version}: expected ${offer.checksum.sha256}, got ${digest}`)
  }
  await rename(partial, file)
  return { updated: true, version: offer.latest_version, file, breaking: offer.breaking_changes }
}

if (import.meta.main) {
  const env = (name: string, fallback?: string) => {
    const value = process.env[name] ?? fallback
    if (value === undefined) throw new Error(`${name} is required`)
    return value
  }
  const outcome = await update({
    gatewayUrl: env("GATEWAY_URL", "http://localhost:3000"),
    apiKey: env("API_KEY"),
    projectId: env("PROJECT", "trackly"),
    channel: env("CHANNEL", "stable"),
    currentVersion: env("CURRENT_VERSION", "0.0.0"),
    platform: env("PLATFORM", "windows") as Installation["platform"],
    architecture: env("ARCHITECTURE", "x64") as Installation["architecture"],
    directory: env("DOWNLOADS", "downloads")
  })
  console.log(outcome.updated ? `Downloaded ${outcome.version} to ${outcome.file}` : `Up to date (${outcome.version})`)
}
