import type { Build, Platform } from "../../releases/domain/Catalog.ts"
import { isNupkg } from "../../releases/domain/UpdatePolicy.ts"

/**
 * What each updater framework names and installs. Every feed asks the same update policy; these are
 * the translations between the frameworks' words and the catalog's, and the builds each can install.
 */

/** Tauri's `{{target}}` and `{{arch}}` (the Rust target's OS and CPU). */
export const tauriTargets = ["windows", "darwin", "linux"] as const
export const tauriArchs = ["x86_64", "aarch64", "i686", "armv7"] as const
export type TauriTarget = (typeof tauriTargets)[number]
export type TauriArch = (typeof tauriArchs)[number]

export const platformOfTauri = (target: TauriTarget): Platform => (target === "darwin" ? "macos" : target)

/** `undefined` for 32-bit targets, which the catalog has no builds for. */
export const architectureOfTauri = (arch: TauriArch): "x64" | "arm64" | undefined =>
  arch === "x86_64" ? "x64" : arch === "aarch64" ? "arm64" : undefined

const tauriOs: Record<Platform, TauriTarget> = { windows: "windows", macos: "darwin", linux: "linux" }

/** The keys of a static `latest.json`'s `platforms` map a build serves (a universal build serves both Macs). */
export const tauriPlatformKeys = (build: Build): ReadonlyArray<string> => {
  const os = tauriOs[build.platform]
  if (build.architecture === "universal") return [`${os}-x86_64`, `${os}-aarch64`]
  return [`${os}-${build.architecture === "x64" ? "x86_64" : "aarch64"}`]
}

/** Tauri verifies the minisign signature of what it downloads: unsigned builds are never offered to it. */
export const tauriAccepts = (build: Build): boolean => build.signature !== undefined

/** electron-updater checks the SHA-512 of what it downloads. */
export const electronAccepts = (build: Build): boolean => build.checksum?.sha512 !== undefined && !isNupkg(build)

/** Squirrel.Mac installs zip archives. */
export const squirrelMacAccepts = (build: Build): boolean =>
  build.file_name.toLowerCase().endsWith(".zip") && !isNupkg(build)

/** Squirrel.Windows installs full `.nupkg` packages listed with their SHA-1. */
export const squirrelWindowsAccepts = (build: Build): boolean => isNupkg(build) && build.checksum?.sha1 !== undefined

/** Squirrel.Windows and Electron name architectures as Node does; `amd64`/`x86_64` are accepted too. */
export const architectureOfNode = (arch: string): "x64" | "arm64" | undefined =>
  arch === "x64" || arch === "amd64" || arch === "x86_64"
    ? "x64"
    : arch === "arm64" || arch === "aarch64"
      ? "arm64"
      : undefined

/** An electron-updater channel file: `latest.yml`, `beta-mac.yml`, `latest-linux-arm64.yml`, ... */
export interface ElectronChannelFile {
  readonly channel: string
  readonly platform: Platform
  readonly architecture: "x64" | "arm64"
  /** macOS: the file lists every Mac build and electron-updater picks the one for its CPU. */
  readonly anyMac: boolean
}

/**
 * Reads the file name electron-updater asks for: `{channel}.yml` on Windows, `{channel}-mac.yml` on
 * macOS, `{channel}-linux.yml` and `{channel}-linux-arm64.yml` on Linux.
 */
export const parseElectronFile = (file: string): ElectronChannelFile | undefined => {
  const match = /^([A-Za-z0-9._]+?)(-mac|-linux|-linux-arm64)?\.yml$/.exec(file)
  if (match === null) return undefined
  const channel = match[1]!
  switch (match[2]) {
    case "-mac":
      return { channel, platform: "macos", architecture: "x64", anyMac: true }
    case "-linux":
      return { channel, platform: "linux", architecture: "x64", anyMac: false }
    case "-linux-arm64":
      return { channel, platform: "linux", architecture: "arm64", anyMac: false }
    default:
      return { channel, platform: "windows", architecture: "x64", anyMac: false }
  }
}

export interface ElectronFile {
  readonly url: string
  readonly sha512: string
  readonly size: number
}

export interface ElectronUpdateInfo {
  readonly version: string
  readonly files: ReadonlyArray<ElectronFile>
  readonly releaseDate: string
  readonly releaseNotes?: string | undefined
  /** Present while the version's rollout is partial. */
  readonly stagingPercentage?: number | undefined
}

// JSON strings are YAML double-quoted scalars, so every text value is written with JSON's escaping.
const text = (value: string) => JSON.stringify(value)

/** The `latest*.yml` document electron-builder writes, with `path` and `sha512` naming the first file. */
export const electronYaml = (info: ElectronUpdateInfo): string => {
  const first = info.files[0]
  const lines = [`version: ${text(info.version)}`, "files:"]
  for (const file of info.files) {
    lines.push(`  - url: ${text(file.url)}`, `    sha512: ${text(file.sha512)}`, `    size: ${file.size}`)
  }
  if (first !== undefined) lines.push(`path: ${text(first.url)}`, `sha512: ${text(first.sha512)}`)
  lines.push(`releaseDate: ${text(info.releaseDate)}`)
  if (info.releaseNotes !== undefined) lines.push(`releaseNotes: ${text(info.releaseNotes)}`)
  if (info.stagingPercentage !== undefined) lines.push(`stagingPercentage: ${info.stagingPercentage}`)
  return `${lines.join("\n")}\n`
}

/** Squirrel.Windows' `RELEASES`: one `SHA1 filename size` line per package. */
export const squirrelReleases = (builds: ReadonlyArray<Build>): string =>
  builds.map((b) => `${b.checksum!.sha1!.toUpperCase()} ${b.file_name} ${b.file_size}`).join("\n")
