import type { Build, Platform } from "./Catalog.ts"
import type { IndexedChannel, IndexedVersion } from "./CatalogIndex.ts"
import * as Semver from "./Semver.ts"

/** The client's side of an update check: what it runs and where. */
export interface UpdateQuery {
  readonly current: Semver.SemVer
  readonly platform: Platform
  readonly architecture: "x64" | "arm64"
  /** An x64 macOS process running under Rosetta: an arm64 build lets it move to native code. */
  readonly translated?: boolean | undefined
  /** Which builds this client can install (a feed's format); every installer by default. */
  readonly accepts?: ((build: Build) => boolean) | undefined
  /** Whether the version's rollout admits this client; every version by default. */
  readonly admits?: ((version: IndexedVersion) => boolean) | undefined
}

/** Squirrel.Windows packages: only its feed offers them, never an installer download. */
export const isNupkg = (build: Build): boolean => build.file_name.toLowerCase().endsWith(".nupkg")

const installer = (build: Build) => !isNupkg(build)

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
 * The build of a version for a platform and architecture, among the builds `accepts` allows.
 * macOS falls back to a `universal` build when no build for the exact architecture exists; an x64
 * process under Rosetta (`translated`) is offered arm64 first, then universal, then x64. Builds
 * whose checksum is known to be wrong are never offered.
 */
export const buildFor = (
  version: IndexedVersion,
  platform: Platform,
  architecture: string,
  options: {
    readonly translated?: boolean | undefined
    readonly accepts?: ((build: Build) => boolean) | undefined
  } = {}
): Build | undefined => {
  const accepts = options.accepts ?? installer
  const preference =
    platform !== "macos"
      ? [architecture]
      : options.translated === true && architecture === "x64"
        ? ["arm64", "universal", "x64"]
        : [architecture, "universal"]
  let best: Build | undefined
  let bestRank = preference.length
  for (const build of version.builds.values()) {
    if (build.platform !== platform || build.status === "checksum_mismatch" || !accepts(build)) continue
    const rank = preference.indexOf(build.architecture)
    if (rank !== -1 && rank < bestRank) {
      best = build
      bestRank = rank
    }
  }
  return best
}

/** Whether the channel offers this version at all: pre-releases only where the channel allows them. */
export const offered = (channel: IndexedChannel, version: IndexedVersion): boolean =>
  channel.allowPrerelease || !Semver.isPrerelease(version.semver)

/**
 * Decides whether a client should update. An update is offered only for a version strictly newer
 * than the current one, offered by the channel, with an installable build for the client; it is
 * never a downgrade. A version whose rollout does not admit the client is passed over for the newest
 * older one that does. Breaking changes are judged over every version skipped on the way.
 */
export const decide = (channel: IndexedChannel, query: UpdateQuery): UpdateDecision => {
  // `channel.versions` is sorted newest first, so the first installable newer version is the latest.
  let newestInstallable: IndexedVersion | undefined
  for (const candidate of channel.versions) {
    if (!offered(channel, candidate)) continue
    const build = buildFor(candidate, query.platform, query.architecture, query)
    if (build === undefined) continue
    if (Semver.compare(candidate.semver, query.current) <= 0) {
      newestInstallable = candidate
      break
    }
    // A version the rollout withholds is skipped: the client gets the newest one offered to it.
    if (query.admits !== undefined && !query.admits(candidate)) continue
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
