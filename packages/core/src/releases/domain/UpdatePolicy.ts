import type { Build, Platform } from "./Catalog.ts"
import type { IndexedChannel, IndexedVersion } from "./CatalogIndex.ts"
import * as Semver from "./Semver.ts"

/** The client's side of an update check: what it runs and where. */
export interface UpdateQuery {
  readonly current: Semver.SemVer
  readonly platform: Platform
  readonly architecture: "x64" | "arm64"
}

export type UpdateDecision =
  | {
      readonly _tag: "UpdateAvailable"
      readonly latest: IndexedVersion
      readonly build: Build
      /** True when any version in (current, latest] is marked breaking or the major version rises. */
      readonly breakingChanges: boolean
    }
  | {
      readonly _tag: "UpToDate"
      /** The newest version this client could install, if any; the current one otherwise. */
      readonly latest: IndexedVersion | undefined
    }

/**
 * The build of a version for a platform and architecture. macOS falls back to a `universal`
 * build when no build for the exact architecture exists. Builds whose checksum is known to be
 * wrong are never offered.
 */
export const buildFor = (version: IndexedVersion, platform: Platform, architecture: string): Build | undefined => {
  let fallback: Build | undefined
  for (const build of version.builds.values()) {
    if (build.platform !== platform || build.status === "checksum_mismatch") continue
    if (build.architecture === architecture) return build
    if (platform === "macos" && build.architecture === "universal") fallback = build
  }
  return fallback
}

const offered = (channel: IndexedChannel, version: IndexedVersion): boolean =>
  channel.allowPrerelease || !Semver.isPrerelease(version.semver)

/**
 * Decides whether a client should update. An update is offered only for a version strictly newer
 * than the current one, offered by the channel, with an installable build for the client; it is
 * never a downgrade. Breaking changes are judged over every version skipped on the way.
 */
export const decide = (channel: IndexedChannel, query: UpdateQuery): UpdateDecision => {
  // `channel.versions` is sorted newest first, so the first installable newer version is the latest.
  let newestInstallable: IndexedVersion | undefined
  for (const candidate of channel.versions) {
    if (!offered(channel, candidate)) continue
    const build = buildFor(candidate, query.platform, query.architecture)
    if (build === undefined) continue
    if (Semver.compare(candidate.semver, query.current) <= 0) {
      newestInstallable = candidate
      break
    }
    const breakingChanges =
      candidate.semver.major > query.current.major ||
      channel.versions.some(
        (v) =>
          v.version.breaking_changes === true &&
          Semver.compare(v.semver, query.current) > 0 &&
          Semver.compare(v.semver, candidate.semver) <= 0
      )
    return { _tag: "UpdateAvailable", latest: candidate, build, breakingChanges }
  }
  return { _tag: "UpToDate", latest: newestInstallable }
}

/** The newest version the channel offers, regardless of platform. */
export const latestOf = (channel: IndexedChannel): IndexedVersion | undefined =>
  channel.versions.find((v) => offered(channel, v))
