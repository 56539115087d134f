import { Context, Effect, Layer } from "effect"
import type { Principal } from "../../access/domain/Permissions.ts"
import {
  BuildNotFound,
  type ChannelNotFound,
  type InvalidVersion,
  type ProjectNotFound,
  Unauthorized,
  type VersionNotFound
} from "../../errors/Errors.ts"
import type { Build } from "../../releases/domain/Catalog.ts"
import type { IndexedVersion } from "../../releases/domain/CatalogIndex.ts"
import type { RolloutState } from "../../releases/domain/Rollout.ts"
import * as UpdatePolicy from "../../releases/domain/UpdatePolicy.ts"
import type { BuildRef } from "../../releases/ports/DownloadStore.ts"
import { Releases } from "../../releases/services/Releases.ts"
import { Rollouts } from "../../releases/services/Rollouts.ts"
import { type ClientIdentity, type UpdateCheck, type UpdateOutcome, Updates } from "../../releases/services/Updates.ts"

/** The lowest SemVer precedence: asking "from" it yields the newest version a client may install. */
const fromNothing = "0.0.0-0"

export interface NewestRelease {
  readonly version: IndexedVersion
  /** The version's builds this updater can install, checksum mismatches left out. */
  readonly builds: ReadonlyArray<Build>
}

type Missing = ProjectNotFound | ChannelNotFound

export interface FeedsShape {
  /**
   * Who a feed answers for: the key's principal, or, without a key, a reader of this project alone
   * when the channel's feeds are public. A hidden or missing channel is `Unauthorized` to an
   * anonymous caller, so feeds reveal nothing without a key.
   */
  readonly principal: (
    caller: Principal | undefined,
    projectId: string,
    channelId: string
  ) => Effect.Effect<Principal, Unauthorized | Missing>
  /** The update policy's answer, as the JSON update check gives it. */
  readonly check: (principal: Principal, check: UpdateCheck) => Effect.Effect<UpdateOutcome, InvalidVersion | Missing>
  /** The newest version this client may install on a platform, with the build for it, for static feeds. */
  readonly newestFor: (
    principal: Principal,
    check: Omit<UpdateCheck, "currentVersion">
  ) => Effect.Effect<UpdateOutcome, Missing>
  /** The newest version the client may install on any platform, for Tauri's static `latest.json`. */
  readonly newestAnywhere: (
    principal: Principal,
    projectId: string,
    channelId: string,
    identity: ClientIdentity,
    accepts: (build: Build) => boolean
  ) => Effect.Effect<NewestRelease | undefined, Missing>
  /** The state a version's rollout has now. */
  readonly rollout: (projectId: string, channelId: string, version: IndexedVersion) => Effect.Effect<RolloutState>
  /** Counts a download through a feed and gives the URL to redirect to. */
  readonly download: (
    principal: Principal,
    ref: BuildRef
  ) => Effect.Effect<string, Missing | VersionNotFound | BuildNotFound>
  /** The build of the channel published under `fileName` that `accepts` allows (a `.nupkg` beside `RELEASES`). */
  readonly findFile: (
    principal: Principal,
    projectId: string,
    channelId: string,
    fileName: string,
    accepts: (build: Build) => boolean
  ) => Effect.Effect<BuildRef, Missing | BuildNotFound>
}

export class Feeds extends Context.Service<Feeds, FeedsShape>()("@lunarbit/gateway-core/Feeds") {}

export const make = Effect.gen(function* () {
  const releases = yield* Releases
  const updates = yield* Updates
  const rollouts = yield* Rollouts

  const principal: FeedsShape["principal"] = (caller, projectId, channelId) => {
    if (caller !== undefined) return Effect.succeed(caller)
    return Effect.flatMap(releases.catalog, (catalog) => {
      const channel = catalog.projectsById.get(projectId)?.channels.get(channelId)
      if (channel?.channel.public_feeds === true) {
        return Effect.succeed<Principal>({
          name: "public-feed",
          permissions: new Set(["canReadVersions", "canCheckUpdates"]),
          allowedProjects: new Set([projectId]),
          isAdmin: false
        })
      }
      return Effect.fail(
        new Unauthorized({
          message: "Authentication required: send Authorization: Bearer <key>, or make the channel's feeds public",
          details: { reason: "missing" }
        })
      )
    })
  }

  const newestFor: FeedsShape["newestFor"] = (who, request) =>
    // The version is well-formed, so the check can only fail for a missing project or channel.
    updates
      .check(who, { ...request, currentVersion: fromNothing })
      .pipe(Effect.catchTag("InvalidVersion", (error) => Effect.die(error)))

  const newestAnywhere: FeedsShape["newestAnywhere"] = (who, projectId, channelId, identity, accepts) =>
    Effect.gen(function* () {
      const { channel } = yield* releases.channel(who, projectId, channelId)
      const admits = yield* rollouts.admission(projectId, channelId, identity.clientId)
      for (const version of channel.versions) {
        if (!UpdatePolicy.offered(channel, version) || !admits(version)) continue
        const builds = [...version.builds.values()].filter((b) => b.status !== "checksum_mismatch" && accepts(b))
        if (builds.length > 0) return { version, builds }
      }
      return undefined
    })

  const download: FeedsShape["download"] = (who, ref) =>
    Effect.gen(function* () {
      const found = yield* releases.build(who, ref)
      // Counted under the version's canonical id, as the API's download route counts.
      yield* releases.recordDownload({ ...ref, version: found.version.version.id, build: found.build.id })
      return found.build.download_url
    })

  const findFile: FeedsShape["findFile"] = (who, projectId, channelId, fileName, accepts) =>
    Effect.gen(function* () {
      const { channel } = yield* releases.channel(who, projectId, channelId)
      for (const version of channel.versions) {
        for (const build of version.builds.values()) {
          if (build.file_name === fileName && accepts(build)) {
            return { project: projectId, channel: channelId, version: version.version.id, build: build.id }
          }
        }
      }
      return yield* new BuildNotFound({
        message: `No package '${fileName.slice(0, 128)}' in channel '${channelId}' of project '${projectId}'`,
        details: { project: projectId, channel: channelId, file: fileName.slice(0, 256) }
      })
    })

  return Feeds.of({
    principal,
    check: updates.check,
    newestFor,
    newestAnywhere,
    rollout: rollouts.state,
    download,
    findFile
  })
})

export const layer: Layer.Layer<Feeds, never, Releases | Updates | Rollouts> = Layer.effect(Feeds, make)
