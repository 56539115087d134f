import type { Architecture, Build, Checksum, Platform } from "../domain/Catalog.ts"
import * as GitHubChecksums from "./GitHubChecksums.ts"

/**
 * Release assets become builds by their file name: the extension gives the kind of package, words
 * in the name give the platform and the architecture (`app-1.2.0-win-x64.exe`, `app_1.2.0_amd64.deb`,
 * `App-1.2.0-arm64.dmg`). Files that are neither (signatures, checksums, sources) are left out.
 */
export interface AssetKind {
  readonly platform: Platform
  readonly architecture: Architecture
  /** The package format, as it appears in a build id (`exe`, `tar-gz`, `appimage`). */
  readonly kind: string
}

// Per platform, the formats in order of preference: the first present gets the plain build id.
const formats: ReadonlyArray<{ readonly suffix: string; readonly kind: string; readonly platform?: Platform }> = [
  { suffix: ".exe", kind: "exe", platform: "windows" },
  { suffix: ".msi", kind: "msi", platform: "windows" },
  { suffix: ".dmg", kind: "dmg", platform: "macos" },
  { suffix: ".appimage", kind: "appimage", platform: "linux" },
  // Tauri's macOS updater bundle (`App_aarch64.app.tar.gz`), signed by the `.sig` beside it.
  { suffix: ".app.tar.gz", kind: "app-tar-gz", platform: "macos" },
  { suffix: ".tar.gz", kind: "tar-gz" },
  { suffix: ".deb", kind: "deb", platform: "linux" },
  { suffix: ".rpm", kind: "rpm", platform: "linux" },
  { suffix: ".zip", kind: "zip" },
  // Squirrel.Windows' full packages, for its feed; delta packages are left out.
  { suffix: ".nupkg", kind: "nupkg", platform: "windows" }
]

// Words are delimited by anything but letters and digits, so `win` does not match inside `darwin`.
const word = (alternatives: string) => new RegExp(`(?<![a-z0-9])(?:${alternatives})(?![a-z0-9])`)
const platforms: ReadonlyArray<readonly [Platform, RegExp]> = [
  ["windows", word("win|windows|win32|win64")],
  ["macos", word("mac|macos|osx|darwin")],
  ["linux", word("linux")]
]
const arm64 = word("arm64|aarch64")
const universal = word("universal")
const x64 = word("x64|x86[_-]64|amd64|win64")
// 32-bit builds are not offered: clients ask for x64 or arm64 only.
const thirtyTwoBit = word("x86|ia32|i386|i686|win32|armv7l?|armhf")

/** What an asset is, or `undefined` when it is not an installable build. */
export const classify = (name: string): AssetKind | undefined => {
  const lower = name.toLowerCase()
  if (GitHubChecksums.classify(name) !== undefined || lower.endsWith("-delta.nupkg")) return undefined
  const format = formats.find((f) => lower.endsWith(f.suffix))
  if (format === undefined) return undefined
  const platform = platforms.find(([, pattern]) => pattern.test(lower))?.[0] ?? format.platform
  if (platform === undefined) return undefined
  let architecture: Architecture
  if (arm64.test(lower)) architecture = "arm64"
  else if (universal.test(lower)) architecture = "universal"
  else if (x64.test(lower)) architecture = "x64"
  else if (thirtyTwoBit.test(lower)) return undefined
  // Unmarked macOS packages are taken as universal (Apple Silicon runs x64 ones too); others as x64.
  else architecture = platform === "macos" ? "universal" : "x64"
  return { platform, architecture, kind: format.kind }
}

const rank = (kind: string) => formats.findIndex((f) => f.kind === kind)

/** The asset fields a build is made of. */
export interface AssetFile {
  readonly name: string
  readonly size: number
  readonly browser_download_url: string
  readonly created_at: string
}

/**
 * The builds of one release, preferred formats first (an update check offers the first build that
 * fits). Ids are `platform-architecture` for the preferred format and gain the format otherwise
 * (`windows-x64`, `windows-x64-msi`), and a counter if a release has two files of one kind.
 */
export const toBuilds = (
  assets: ReadonlyArray<AssetFile>,
  checksums: ReadonlyMap<string, Checksum>,
  /** Tauri's minisign signatures by file name (from the `.sig` assets). */
  signatures: ReadonlyMap<string, string> = new Map()
): Array<Build> => {
  const classified = assets
    .flatMap((asset) => {
      const kind = classify(asset.name)
      return kind === undefined ? [] : [{ asset, ...kind }]
    })
    .sort((a, b) => rank(a.kind) - rank(b.kind) || a.asset.name.localeCompare(b.asset.name))
  const used = new Set<string>()
  const builds: Array<Build> = []
  for (const { asset, platform, architecture, kind } of classified) {
    const base = `${platform}-${architecture}`
    let id = used.has(base) ? `${base}-${kind}` : base
    for (let n = 2; used.has(id); n++) id = `${base}-${kind}-${n}`
    used.add(id)
    const checksum = checksums.get(asset.name)
    const signature = signatures.get(asset.name)
    builds.push({
      id,
      platform,
      architecture,
      file_name: asset.name,
      file_size: asset.size,
      download_url: asset.browser_download_url,
      created_at: asset.created_at,
      ...(checksum === undefined || Object.keys(checksum).length === 0 ? {} : { checksum }),
      ...(signature === undefined ? {} : { signature })
    })
  }
  return builds
}
