import { Effect } from "effect"
import { HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { CurrentPrincipal } from "../../access/http/Middleware.ts"
import { VersionNotFound } from "../../errors/Errors.ts"
import { Api } from "../../http/Api.ts"
import * as Direct from "../../http/Direct.ts"
import * as UpdatePolicy from "../domain/UpdatePolicy.ts"
import { Releases } from "../services/Releases.ts"
import * as Present from "./Present.ts"

const defaultPerPage = 20

const buildRef = (params: {
  readonly projectId: string
  readonly channelId: string
  readonly versionId: string
  readonly buildId: string
}) => ({ project: params.projectId, channel: params.channelId, version: params.versionId, build: params.buildId })

export const ProjectsHandlers = HttpApiBuilder.group(Api, "projects", (handlers) =>
  Effect.gen(function* () {
    const releases = yield* Releases
    return handlers
      .handle(
        "listProjects",
        Direct.handler(({ query }, principal) =>
          Effect.mapEager(releases.visibleProjects(principal), (projects) => {
            const page = Present.paginate(projects, query.page ?? 1, query.per_page ?? defaultPerPage)
            return {
              projects: page.items.map(Present.projectSummary),
              total: page.total,
              page: page.page,
              per_page: page.per_page
            }
          })
        )
      )
      .handle(
        "getProject",
        Direct.handler(({ params }, principal) =>
          Effect.flatMapEager(releases.project(principal, params.projectId), (project) =>
            Effect.mapEager(releases.recordedDownloads, (counts) => Present.projectDetails(project, counts))
          )
        )
      )
      .handle("listVersions", ({ params, query }) =>
        Effect.gen(function* () {
          const { channel } = yield* releases.channel(yield* CurrentPrincipal, params.projectId, params.channelId)
          const counts = yield* releases.recordedDownloads
          // The channel's versions are held newest first.
          const ordered = query.sort === "asc" ? [...channel.versions].reverse() : channel.versions
          const page = Present.paginate(ordered, query.page ?? 1, query.per_page ?? defaultPerPage)
          return {
            versions: page.items.map((v) => Present.versionSummary(counts, params.projectId, params.channelId, v)),
            total: page.total,
            page: page.page,
            per_page: page.per_page
          }
        })
      )
      .handle("latestVersion", ({ params }) =>
        Effect.gen(function* () {
          const { channel } = yield* releases.channel(yield* CurrentPrincipal, params.projectId, params.channelId)
          const latest = UpdatePolicy.latestOf(channel)
          if (latest === undefined) {
            return yield* new VersionNotFound({
              message: `Channel '${params.channelId}' of project '${params.projectId}' has no versions yet`,
              details: { project: params.projectId, channel: params.channelId }
            })
          }
          return Present.versionDetails(yield* releases.recordedDownloads, params.projectId, params.channelId, latest)
        })
      )
      .handle("getVersion", ({ params }) =>
        Effect.gen(function* () {
          const view = yield* releases.version(
            yield* CurrentPrincipal,
            params.projectId,
            params.channelId,
            params.versionId
          )
          return Present.versionDetails(
            yield* releases.recordedDownloads,
            params.projectId,
            params.channelId,
            view.version
          )
        })
      )
      .handle("getBuild", ({ params }) =>
        Effect.gen(function* () {
          const view = yield* releases.build(yield* CurrentPrincipal, buildRef(params))
          const counts = yield* releases.recordedDownloads
          return Present.buildDetails(counts, params.projectId, params.channelId, view.version, view.build)
        })
      )
      .handle("downloadBuild", ({ params }) =>
        Effect.gen(function* () {
          const view = yield* releases.build(yield* CurrentPrincipal, buildRef(params))
          // Counted under the version's canonical id, whatever spelling the client used.
          yield* releases.recordDownload({
            project: params.projectId,
            channel: params.channelId,
            version: view.version.version.id,
            build: view.build.id
          })
          return HttpServerResponse.redirect(view.build.download_url, {
            status: 302,
            headers: { "cache-control": "no-store" }
          })
        })
      )
  })
)
