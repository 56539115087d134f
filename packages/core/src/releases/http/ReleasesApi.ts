import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import { Authenticated } from "../../access/http/Middleware.ts"
import { RequiredPermission } from "../../access/http/RequiredPermission.ts"
import { Direct } from "../../http/Direct.ts"
import * as ClientIdentity from "./ClientIdentity.ts"
import * as S from "./Schemas.ts"

const ProjectPath = { projectId: Schema.String }
const ChannelPath = { ...ProjectPath, channelId: Schema.String }
const VersionPath = { ...ChannelPath, versionId: Schema.String }
const BuildPath = { ...VersionPath, buildId: Schema.String }

const versionBase = "/projects/:projectId/channels/:channelId/versions/:versionId" as const

export class ProjectsGroup extends HttpApiGroup.make("projects")
  .add(
    HttpApiEndpoint.get("listProjects", "/projects", { query: S.Pagination, success: S.ProjectList })
      .annotate(Direct, true)
      .annotate(RequiredPermission, "canReadProjects"),
    HttpApiEndpoint.get("getProject", "/projects/:projectId", {
      params: ProjectPath,
      success: S.ProjectDetails
    })
      .annotate(Direct, true)
      .annotate(RequiredPermission, "canReadProjects"),
    HttpApiEndpoint.get("listVersions", "/projects/:projectId/channels/:channelId/versions", {
      params: ChannelPath,
      query: { ...S.Pagination, sort: Schema.optionalKey(Schema.Literals(["asc", "desc"])) },
      success: S.VersionList
    })
      .annotate(Direct, true)
      .annotate(RequiredPermission, "canReadVersions"),
    HttpApiEndpoint.get("latestVersion", "/projects/:projectId/channels/:channelId/latest", {
      params: ChannelPath,
      success: S.VersionDetails
    })
      .annotate(Direct, true)
      .annotate(RequiredPermission, "canReadVersions"),
    HttpApiEndpoint.get("getVersion", versionBase, { params: VersionPath, success: S.VersionDetails })
      .annotate(Direct, true)
      .annotate(RequiredPermission, "canReadVersions"),
    HttpApiEndpoint.get("getBuild", `${versionBase}/builds/:buildId`, {
      params: BuildPath,
      success: S.BuildDetails
    })
      .annotate(Direct, true)
      .annotate(RequiredPermission, "canReadVersions"),
    HttpApiEndpoint.get("downloadBuild", `${versionBase}/builds/:buildId/download`, {
      params: BuildPath,
      success: HttpApiSchema.Empty(302)
    })
      .annotate(RequiredPermission, "canReadVersions")
      .annotate(OpenApi.Description, "Counts the download and redirects to the build's download URL")
  )
  .middleware(Authenticated) {}

export class UpdatesGroup extends HttpApiGroup.make("updates")
  .add(
    HttpApiEndpoint.get("checkUpdate", "/projects/:projectId/channels/:channelId/update", {
      params: ChannelPath,
      query: { ...S.UpdateQuery, ...ClientIdentity.query },
      headers: ClientIdentity.headers,
      success: S.UpdateResult
    })
      .annotate(Direct, true)
      .annotate(RequiredPermission, "canCheckUpdates"),
    HttpApiEndpoint.post("launcherCheck", "/update/check", {
      query: ClientIdentity.query,
      headers: ClientIdentity.headers,
      payload: S.LauncherCheckRequest,
      success: S.LauncherCheckResponse
    }).annotate(RequiredPermission, "canCheckUpdates")
  )
  .middleware(Authenticated) {}
