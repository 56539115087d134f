import { Effect, Option } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { NotFound, VersionNotFound } from "../../errors/Errors.ts"
import { Api } from "../../http/Api.ts"
import type { Build, Platform } from "../../releases/domain/Catalog.ts"
import type { IndexedVersion } from "../../releases/domain/CatalogIndex.ts"
import * as ClientIdentity from "../../releases/http/ClientIdentity.ts"
import type { UpdateOutcome } from "../../releases/services/Updates.ts"
import * as Formats from "../domain/FeedFormats.ts"
import { Feeds } from "../services/Feeds.ts"
import { FeedCaller } from "./FeedAccess.ts"

const noUpdate = HttpServerResponse.empty({ status: 204 })

/**
 * Where the gateway is reached from, for the absolute download URLs Tauri and Squirrel need: the
 * request's host, and the scheme a proxy in front reports (`X-Forwarded-Proto`), `http` otherwise.
 */
const origin = Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
  const url = Option.getOrUndefined(HttpServerRequest.toURL(request))
  const proto = request.headers["x-forwarded-proto"]?.split(",")[0]?.trim()
  const host = url?.host ?? "localhost"
  return `${proto === "https" || proto === "http" ? proto : (url?.protocol.slice(0, -1) ?? "http")}://${host}`
})

/** The feed route that counts a download and redirects to the build. */
const downloadUrl = (base: string, projectId: string, channelId: string, version: IndexedVersion, build: Build) =>
  `${base}/feeds/download/${[projectId, channelId, version.version.id, build.id].map(encodeURIComponent).join("/")}`

const missing = (projectId: string, channelId: string) =>
  new VersionNotFound({
    message: `Channel '${channelId}' of project '${projectId}' has no version this updater can install`,
    details: { project: projectId, channel: channelId }
  })

type Available = Extract<UpdateOutcome["decision"], { _tag: "UpdateAvailable" }>

const available = (outcome: UpdateOutcome): Available | undefined =>
  outcome.decision._tag === "UpdateAvailable" ? outcome.decision : undefined

export const FeedsHandlers = HttpApiBuilder.group(Api, "feeds", (handlers) =>
  Effect.gen(function* () {
    const feeds = yield* Feeds
    const principalFor = (params: { readonly projectId: string; readonly channelId: string }) =>
      Effect.flatMap(Effect.service(FeedCaller), (caller) =>
        feeds.principal(caller, params.projectId, params.channelId)
      )

    /** The update a dynamic feed offers a client at `currentVersion`, if any (Tauri, Squirrel.Mac). */
    const updateFor = (
      params: { readonly projectId: string; readonly channelId: string; readonly currentVersion: string },
      identity: ClientIdentity.Identity,
      target: { readonly platform: Platform; readonly architecture: "x64" | "arm64" | undefined },
      accepts: (build: Build) => boolean
    ) =>
      Effect.gen(function* () {
        const principal = yield* principalFor(params)
        if (target.architecture === undefined) return undefined
        const outcome = yield* feeds.check(principal, {
          projectId: params.projectId,
          channelId: params.channelId,
          currentVersion: params.currentVersion,
          platform: target.platform,
          architecture: target.architecture,
          accepts,
          ...identity
        })
        return available(outcome)
      })

    return handlers
      .handle("tauriUpdate", ({ params, query, headers }) =>
        Effect.gen(function* () {
          const update = yield* updateFor(
            params,
            ClientIdentity.fromRequest(headers, query),
            {
              platform: Formats.platformOfTauri(params.target),
              architecture: Formats.architectureOfTauri(params.arch)
            },
            Formats.tauriAccepts
          )
          if (update === undefined) return noUpdate
          return {
            version: update.latest.version.id,
            pub_date: update.latest.version.published_at,
            url: downloadUrl(yield* origin, params.projectId, params.channelId, update.latest, update.build),
            signature: update.build.signature!,
            notes: update.latest.version.release_notes ?? ""
          }
        })
      )
      .handle("tauriStatic", ({ params, query, headers }) =>
        Effect.gen(function* () {
          const principal = yield* principalFor(params)
          const identity = ClientIdentity.fromRequest(headers, query)
          const newest = yield* feeds.newestAnywhere(
            principal,
            params.projectId,
            params.channelId,
            identity,
            Formats.tauriAccepts
          )
          if (newest === undefined) return noUpdate
          const base = yield* origin
          const platforms: Record<string, { signature: string; url: string }> = {}
          // Exact builds win over a universal one for the same key.
          const ordered = [...newest.builds].sort(
            (a, b) => Number(a.architecture !== "universal") - Number(b.architecture !== "universal")
          )
          for (const build of ordered) {
            for (const key of Formats.tauriPlatformKeys(build)) {
              platforms[key] = {
                signature: build.signature!,
                url: downloadUrl(base, params.projectId, params.channelId, newest.version, build)
              }
            }
          }
          return {
            version: newest.version.version.id,
            notes: newest.version.version.release_notes ?? "",
            pub_date: newest.version.version.published_at,
            platforms
          }
        })
      )
      .handle("electron", ({ params, query, headers }) =>
        Effect.gen(function* () {
          const file = Formats.parseElectronFile(params.file)
          if (file === undefined || (file.channel !== "latest" && file.channel !== params.channelId)) {
            return yield* new NotFound({
              message: `No electron-updater channel file '${params.file.slice(0, 128)}' here: ask for latest.yml, latest-mac.yml, latest-linux.yml or latest-linux-arm64.yml`,
              details: { file: params.file.slice(0, 128) }
            })
          }
          const principal = yield* principalFor(params)
          const identity = ClientIdentity.fromRequest(headers, query)
          const outcome = yield* feeds.newestFor(principal, {
            projectId: params.projectId,
            channelId: params.channelId,
            platform: file.platform,
            architecture: file.architecture,
            // Any Mac build decides the version: electron-updater picks the file for its CPU from the list.
            translated: file.anyMac || identity.translated,
            accepts: Formats.electronAccepts,
            clientId: identity.clientId
          })
          const update = available(outcome)
          if (update === undefined) return yield* missing(params.projectId, params.channelId)
          const base = yield* origin
          const builds = file.anyMac
            ? [...update.latest.builds.values()].filter(
                (b) => b.platform === "macos" && b.status !== "checksum_mismatch" && Formats.electronAccepts(b)
              )
            : [update.build]
          const rollout = yield* feeds.rollout(params.projectId, params.channelId, update.latest)
          return Formats.electronYaml({
            version: update.latest.version.id,
            files: builds.map((b) => ({
              url: downloadUrl(base, params.projectId, params.channelId, update.latest, b),
              sha512: b.checksum!.sha512!,
              size: b.file_size
            })),
            releaseDate: update.latest.version.published_at,
            releaseNotes: update.latest.version.release_notes,
            stagingPercentage: rollout.percentage < 100 ? rollout.percentage : undefined
          })
        })
      )
      .handle("squirrelMac", ({ params, query, headers }) =>
        Effect.gen(function* () {
          const update = yield* updateFor(
            params,
            ClientIdentity.fromRequest(headers, query),
            { platform: "macos", architecture: Formats.architectureOfNode(params.arch) },
            Formats.squirrelMacAccepts
          )
          if (update === undefined) return noUpdate
          return {
            url: downloadUrl(yield* origin, params.projectId, params.channelId, update.latest, update.build),
            name: update.latest.version.name ?? update.latest.version.id,
            notes: update.latest.version.release_notes ?? "",
            pub_date: update.latest.version.published_at
          }
        })
      )
      .handle("squirrelWindowsReleases", ({ params, query, headers }) =>
        Effect.gen(function* () {
          const principal = yield* principalFor(params)
          const architecture = Formats.architectureOfNode(params.arch)
          const outcome =
            architecture === undefined
              ? undefined
              : yield* feeds.newestFor(principal, {
                  projectId: params.projectId,
                  channelId: params.channelId,
                  platform: "windows",
                  architecture,
                  accepts: Formats.squirrelWindowsAccepts,
                  ...ClientIdentity.fromRequest(headers, query)
                })
          const update = outcome === undefined ? undefined : available(outcome)
          if (update === undefined) return yield* missing(params.projectId, params.channelId)
          return Formats.squirrelReleases([update.build])
        })
      )
      .handle("squirrelWindowsPackage", ({ params }) =>
        Effect.gen(function* () {
          const principal = yield* principalFor(params)
          const ref = yield* feeds.findFile(
            principal,
            params.projectId,
            params.channelId,
            params.file,
            Formats.squirrelWindowsAccepts
          )
          return HttpServerResponse.redirect(yield* feeds.download(principal, ref), {
            status: 302,
            headers: { "cache-control": "no-store" }
          })
        })
      )
      .handle("download", ({ params }) =>
        Effect.gen(function* () {
          const principal = yield* principalFor(params)
          const url = yield* feeds.download(principal, {
            project: params.projectId,
            channel: params.channelId,
            version: params.versionId,
            build: params.buildId
          })
          return HttpServerResponse.redirect(url, { status: 302, headers: { "cache-control": "no-store" } })
        })
      )
  })
)
