import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import * as ClientIdentity from "../../releases/http/ClientIdentity.ts"
import { tauriArchs, tauriTargets } from "../domain/FeedFormats.ts"
import { FeedAccess } from "./FeedAccess.ts"

const channel = { projectId: Schema.String, channelId: Schema.String }
const currentVersion = Schema.String.check(Schema.isMaxLength(256))
const client = { query: ClientIdentity.query, headers: ClientIdentity.headers }

/** Tauri v2's dynamic update server answer (`tauri-plugin-updater`). */
export const TauriUpdate = Schema.Struct({
  version: Schema.String,
  pub_date: Schema.String,
  url: Schema.String,
  signature: Schema.String,
  notes: Schema.String
})

/** Tauri v2's static `latest.json`. */
export const TauriStatic = Schema.Struct({
  version: Schema.String,
  notes: Schema.String,
  pub_date: Schema.String,
  platforms: Schema.Record(Schema.String, Schema.Struct({ signature: Schema.String, url: Schema.String }))
})

/** Squirrel.Mac's update answer (Electron's built-in `autoUpdater` on macOS). */
export const SquirrelMacUpdate = Schema.Struct({
  url: Schema.String,
  name: Schema.String,
  notes: Schema.String,
  pub_date: Schema.String
})

const upToDate = HttpApiSchema.NoContent
const yaml = Schema.String.pipe(HttpApiSchema.asText({ contentType: "application/yaml" }))
const plainText = Schema.String.pipe(HttpApiSchema.asText({ contentType: "text/plain" }))
const redirect = HttpApiSchema.Empty(302)

const base = "/feeds" as const

/**
 * The updater frameworks' own feed formats, over the same catalog and update policy as the JSON
 * update check: Tauri, electron-updater, Squirrel.Mac and Squirrel.Windows. A key is needed unless
 * the channel sets `public_feeds`. The client id (`X-Client-Id` or `client_id`) places the client in
 * staged rollouts.
 */
export class FeedsGroup extends HttpApiGroup.make("feeds")
  .add(
    HttpApiEndpoint.get("tauriStatic", `${base}/tauri/:projectId/:channelId/latest.json`, {
      params: channel,
      ...client,
      success: [TauriStatic, upToDate]
    }).annotate(OpenApi.Description, "Tauri's static `latest.json`: the newest signed release with its `platforms`"),
    HttpApiEndpoint.get("tauriUpdate", `${base}/tauri/:projectId/:channelId/:target/:arch/:currentVersion`, {
      params: {
        ...channel,
        target: Schema.Literals(tauriTargets),
        arch: Schema.Literals(tauriArchs),
        currentVersion
      },
      ...client,
      success: [TauriUpdate, upToDate]
    }).annotate(
      OpenApi.Description,
      "Tauri v2's dynamic update server (`endpoints` with `{{target}}/{{arch}}/{{current_version}}`): 204 when up to date"
    ),
    HttpApiEndpoint.get("electron", `${base}/electron/:projectId/:channelId/:file`, {
      params: { ...channel, file: Schema.String.check(Schema.isMaxLength(128)) },
      ...client,
      success: yaml
    }).annotate(
      OpenApi.Description,
      "electron-updater's generic provider channel files (`latest.yml`, `latest-mac.yml`, `latest-linux.yml`, " +
        "`latest-linux-arm64.yml`, `beta.yml`, ...) with `stagingPercentage` while a rollout is partial"
    ),
    HttpApiEndpoint.get("squirrelMac", `${base}/squirrel-mac/:projectId/:channelId/:arch/:currentVersion`, {
      params: { ...channel, arch: Schema.String.check(Schema.isMaxLength(16)), currentVersion },
      ...client,
      success: [SquirrelMacUpdate, upToDate]
    }).annotate(OpenApi.Description, "Squirrel.Mac (`autoUpdater.setFeedURL`): a zip build, or 204 when up to date"),
    HttpApiEndpoint.get("squirrelWindowsReleases", `${base}/squirrel-windows/:projectId/:channelId/:arch/RELEASES`, {
      params: { ...channel, arch: Schema.String.check(Schema.isMaxLength(16)) },
      ...client,
      success: plainText
    }).annotate(OpenApi.Description, "Squirrel.Windows' `RELEASES` file: `SHA1 filename size` lines"),
    HttpApiEndpoint.get("squirrelWindowsPackage", `${base}/squirrel-windows/:projectId/:channelId/:arch/:file`, {
      params: { ...channel, arch: Schema.String.check(Schema.isMaxLength(16)), file: Schema.String },
      success: redirect
    }).annotate(OpenApi.Description, "A `.nupkg` listed in `RELEASES`: counts the download and redirects to it"),
    HttpApiEndpoint.get("download", `${base}/download/:projectId/:channelId/:versionId/:buildId`, {
      params: { ...channel, versionId: Schema.String, buildId: Schema.String },
      success: redirect
    }).annotate(OpenApi.Description, "A build offered by a feed: counts the download and redirects to it")
  )
  .middleware(FeedAccess) {}
