import { Schema } from "effect"
import * as Semver from "./Semver.ts"

/**
 * The release catalog: projects, their channels, each channel's versions and each version's builds.
 * This is the document a `ReleaseSource` produces (a JSON file, GitHub, a Workers binding); field names
 * are snake_case like the API that serves them.
 */
export const Platform = Schema.Literals(["windows", "macos", "linux"])
export type Platform = typeof Platform.Type
/** `universal` exists for builds only (a macOS fat binary); clients ask for `x64` or `arm64`. */
export const Architecture = Schema.Literals(["x64", "arm64", "universal"])
export type Architecture = typeof Architecture.Type
export const BuildStatus = Schema.Literals(["verified", "unverified", "checksum_mismatch", "unreachable"])
export type BuildStatus = typeof BuildStatus.Type

const Id = Schema.String.check(Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/))
const Timestamp = Schema.String.check(
  Schema.isPattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/)
)
const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const SemverString = Schema.String.check(
  Schema.makeFilter((s: string) => Semver.isValid(s) || "Expected a SemVer 2.0.0 version such as 1.2.3 or 2.0.0-beta.1")
)

export const Checksum = Schema.Struct({
  sha256: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^[a-f0-9]{64}$/i))),
  md5: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^[a-f0-9]{32}$/i))),
  /** Base64, as electron-builder writes it in its `latest*.yml` files; electron-updater checks it. */
  sha512: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^[A-Za-z0-9+/]{86}==$/))),
  /** Hex; Squirrel.Windows lists it in `RELEASES` and checks each `.nupkg` against it. */
  sha1: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^[a-f0-9]{40}$/i)))
})
export type Checksum = typeof Checksum.Type

export const Build = Schema.Struct({
  id: Id,
  platform: Platform,
  architecture: Architecture,
  file_name: Schema.String,
  file_size: Count,
  download_url: Schema.String.check(Schema.isPattern(/^https?:\/\//)),
  checksum: Schema.optionalKey(Checksum),
  /** The minisign signature (the content of the `.sig` file) Tauri's updater verifies; Tauri feeds offer only signed builds. */
  signature: Schema.optionalKey(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(4096))),
  created_at: Schema.optionalKey(Timestamp),
  downloads: Schema.optionalKey(Count),
  status: Schema.optionalKey(BuildStatus)
})
export type Build = typeof Build.Type

const Percentage = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 100 }))

/**
 * A staged rollout: the share of clients offered the version, optionally raised by steps over time
 * (the last step whose time has come applies), and the kill switch. Without one a version reaches
 * everyone. The admin endpoints can override it at run time.
 */
export const Rollout = Schema.Struct({
  percentage: Percentage,
  paused: Schema.optionalKey(Schema.Boolean),
  steps: Schema.optionalKey(Schema.Array(Schema.Struct({ at: Timestamp, percentage: Percentage })))
})
export type Rollout = typeof Rollout.Type

export const Version = Schema.Struct({
  id: SemverString,
  name: Schema.optionalKey(Schema.String),
  description: Schema.optionalKey(Schema.String),
  release_notes: Schema.optionalKey(Schema.String),
  breaking_changes: Schema.optionalKey(Schema.Boolean),
  published_at: Timestamp,
  downloads: Schema.optionalKey(Count),
  rollout: Schema.optionalKey(Rollout),
  builds: Schema.Array(Build)
})
export type Version = typeof Version.Type

export const Channel = Schema.Struct({
  id: Id,
  name: Schema.optionalKey(Schema.String),
  description: Schema.optionalKey(Schema.String),
  auto_update: Schema.optionalKey(Schema.Boolean),
  /** Whether pre-release versions are offered here; by default every channel but `stable` offers them. */
  allow_prerelease: Schema.optionalKey(Schema.Boolean),
  /** Serve this channel's updater feeds without a key, for updaters that cannot send headers. */
  public_feeds: Schema.optionalKey(Schema.Boolean),
  versions: Schema.Array(Version)
})
export type Channel = typeof Channel.Type

export const Project = Schema.Struct({
  id: Id,
  name: Schema.String,
  description: Schema.optionalKey(Schema.String),
  repository: Schema.optionalKey(Schema.String),
  homepage: Schema.optionalKey(Schema.String),
  created_at: Timestamp,
  updated_at: Timestamp,
  channels: Schema.Array(Channel)
})
export type Project = typeof Project.Type

export const CatalogDocument = Schema.Struct({ projects: Schema.Array(Project) })
export type CatalogDocument = typeof CatalogDocument.Type
