import { Context, Effect, Layer } from "effect"
import { canSeeProject, type Principal } from "../../access/domain/Permissions.ts"
import { BuildNotFound, ChannelNotFound, ProjectNotFound, VersionNotFound } from "../../errors/Errors.ts"
import { Metrics } from "../../observability/Metrics.ts"
import type { Build } from "../domain/Catalog.ts"
import type { CatalogIndex, IndexedChannel, IndexedProject, IndexedVersion } from "../domain/CatalogIndex.ts"
import * as Semver from "../domain/Semver.ts"
import { type BuildRef, DownloadStore } from "../ports/DownloadStore.ts"
import { ReleaseSource } from "../ports/ReleaseSource.ts"
import * as CatalogMetrics from "./CatalogMetrics.ts"

export interface ChannelView {
  readonly project: IndexedProject
  readonly channel: IndexedChannel
}

export interface VersionView extends ChannelView {
  readonly version: IndexedVersion
}

/**
 * Read access to the catalog as one caller may see it: a key restricted to some projects finds
 * the others exactly as if they did not exist.
 */
export interface ReleasesShape {
  readonly catalog: Effect.Effect<CatalogIndex>
  readonly visibleProjects: (principal: Principal) => Effect.Effect<ReadonlyArray<IndexedProject>>
  readonly project: (principal: Principal, projectId: string) => Effect.Effect<IndexedProject, ProjectNotFound>
  readonly channel: (
    principal: Principal,
    projectId: string,
    channelId: string
  ) => Effect.Effect<ChannelView, ProjectNotFound | ChannelNotFound>
  readonly version: (
    principal: Principal,
    projectId: string,
    channelId: string,
    versionId: string
  ) => Effect.Effect<VersionView, ProjectNotFound | ChannelNotFound | VersionNotFound>
  readonly build: (
    principal: Principal,
    ref: BuildRef
  ) => Effect.Effect<
    VersionView & { readonly build: Build },
    ProjectNotFound | ChannelNotFound | VersionNotFound | BuildNotFound
  >
  readonly recordDownload: (ref: BuildRef) => Effect.Effect<void>
  /** Downloads recorded by the gateway, by `DownloadStore.keyOf`. */
  readonly recordedDownloads: Effect.Effect<ReadonlyMap<string, number>>
}

export class Releases extends Context.Service<Releases, ReleasesShape>()("@lunarbit/gateway-core/Releases") {}

/** Finds a version by its id as written, or by any spelling with the same precedence (`v1.2.0`, `1.2.0+meta`). */
export const findVersion = (channel: IndexedChannel, versionId: string): IndexedVersion | undefined => {
  const exact = channel.versionsById.get(versionId)
  if (exact !== undefined) return exact
  const wanted = Semver.parse(versionId)
  return wanted === undefined ? undefined : channel.versions.find((v) => Semver.compare(v.semver, wanted) === 0)
}

export const make = Effect.gen(function* () {
  const source = yield* ReleaseSource
  const downloads = yield* DownloadStore
  const metrics = yield* Metrics
  if (metrics !== undefined) CatalogMetrics.register(metrics, source)

  const visible = (catalog: CatalogIndex, principal: Principal) =>
    principal.allowedProjects === undefined
      ? catalog.projects
      : catalog.projects.filter((p) => canSeeProject(principal, p.project.id))

  // Eager combinators: over a catalog held in memory, every answer below is an `Exit`.
  const project = (principal: Principal, projectId: string) =>
    Effect.flatMapEager(source.catalog, (catalog) => {
      const found = catalog.projectsById.get(projectId)
      if (found !== undefined && canSeeProject(principal, projectId)) return Effect.succeed(found)
      return Effect.fail(
        new ProjectNotFound({
          message: `Project '${projectId}' not found`,
          details: { project: projectId, available_projects: visible(catalog, principal).map((p) => p.project.id) }
        })
      )
    })

  const channel = (principal: Principal, projectId: string, channelId: string) =>
    Effect.flatMapEager(project(principal, projectId), (found) => {
      const channel = found.channels.get(channelId)
      if (channel !== undefined) return Effect.succeed({ project: found, channel })
      return Effect.fail(
        new ChannelNotFound({
          message: `Channel '${channelId}' not found in project '${projectId}'`,
          details: { project: projectId, channel: channelId, available_channels: [...found.channels.keys()] }
        })
      )
    })

  const version = (principal: Principal, projectId: string, channelId: string, versionId: string) =>
    Effect.flatMapEager(channel(principal, projectId, channelId), (view) => {
      const version = findVersion(view.channel, versionId)
      if (version !== undefined) return Effect.succeed({ ...view, version })
      return Effect.fail(
        new VersionNotFound({
          message: `Version '${versionId}' not found in channel '${channelId}' of project '${projectId}'`,
          details: { project: projectId, channel: channelId, version: versionId }
        })
      )
    })

  const build = (principal: Principal, ref: BuildRef) =>
    Effect.flatMap(version(principal, ref.project, ref.channel, ref.version), (view) => {
      const build = view.version.builds.get(ref.build)
      if (build !== undefined) return Effect.succeed({ ...view, build })
      return Effect.fail(
        new BuildNotFound({
          message: `Build '${ref.build}' not found for version '${ref.version}'`,
          details: { ...ref, available_builds: [...view.version.builds.keys()] }
        })
      )
    })

  return Releases.of({
    get catalog() {
      return source.catalog
    },
    visibleProjects: (principal) => Effect.mapEager(source.catalog, (catalog) => visible(catalog, principal)),
    project,
    channel,
    version,
    build,
    recordDownload: downloads.record,
    recordedDownloads: downloads.counts
  })
})

export const layer: Layer.Layer<Releases, never, ReleaseSource | DownloadStore> = Layer.effect(Releases, make)
