import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import { VERSION } from "../Version.ts"
import { AdminSyncGroup } from "./AdminApi.ts"
import { AiGroup, AiStatusGroup } from "./AiApi.ts"
import { KeysGroup } from "./KeysApi.ts"
import { Authenticated, ErrorHandling } from "./Middleware.ts"
import { OpenAiCompatGroup } from "./OpenAiCompatApi.ts"
import * as OpenApiErrors from "./OpenApiErrors.ts"
import { RequiredPermission } from "./RequiredPermission.ts"
import * as S from "./Schemas.ts"

const ProjectPath = { projectId: Schema.String }
const ChannelPath = { ...ProjectPath, channelId: Schema.String }
const VersionPath = { ...ChannelPath, versionId: Schema.String }
const BuildPath = { ...VersionPath, buildId: Schema.String }

const versionBase = "/projects/:projectId/channels/:channelId/versions/:versionId" as const

export class SystemGroup extends HttpApiGroup.make("system").add(
  HttpApiEndpoint.get("health", "/health", { success: S.Health }).annotate(
    OpenApi.Summary,
    "API availability, version and the state of each release source"
  )
) {}

export class ProjectsGroup extends HttpApiGroup.make("projects")
  .add(
    HttpApiEndpoint.get("listProjects", "/projects", { query: S.Pagination, success: S.ProjectList }).annotate(
      RequiredPermission,
      "canReadProjects"
    ),
    HttpApiEndpoint.get("getProject", "/projects/:projectId", {
      params: ProjectPath,
      success: S.ProjectDetails
    }).annotate(RequiredPermission, "canReadProjects"),
    HttpApiEndpoint.get("listVersions", "/projects/:projectId/channels/:channelId/versions", {
      params: ChannelPath,
      query: { ...S.Pagination, sort: Schema.optionalKey(Schema.Literals(["asc", "desc"])) },
      success: S.VersionList
    }).annotate(RequiredPermission, "canReadVersions"),
    HttpApiEndpoint.get("latestVersion", "/projects/:projectId/channels/:channelId/latest", {
      params: ChannelPath,
      success: S.VersionDetails
    }).annotate(RequiredPermission, "canReadVersions"),
    HttpApiEndpoint.get("getVersion", versionBase, { params: VersionPath, success: S.VersionDetails }).annotate(
      RequiredPermission,
      "canReadVersions"
    ),
    HttpApiEndpoint.get("getBuild", `${versionBase}/builds/:buildId`, {
      params: BuildPath,
      success: S.BuildDetails
    }).annotate(RequiredPermission, "canReadVersions"),
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
      query: S.UpdateQuery,
      success: S.UpdateResult
    }).annotate(RequiredPermission, "canCheckUpdates"),
    HttpApiEndpoint.post("launcherCheck", "/update/check", {
      payload: S.LauncherCheckRequest,
      success: S.LauncherCheckResponse
    }).annotate(RequiredPermission, "canCheckUpdates")
  )
  .middleware(Authenticated) {}

/**
 * The whole API. Every runtime serves this one definition. Add groups above `.middleware(ErrorHandling)`:
 * it applies only to the groups added before it, and every group needs it for the error envelope.
 */
export class Api extends HttpApi.make("lunarbit-gateway")
  .add(SystemGroup)
  .add(ProjectsGroup)
  .add(UpdatesGroup)
  .add(KeysGroup)
  .add(AdminSyncGroup)
  .add(AiStatusGroup)
  .add(AiGroup)
  .add(OpenAiCompatGroup)
  .middleware(ErrorHandling)
  // Report every invalid field at once rather than the first one.
  .annotate(HttpApi.ParseOptions, { errors: "all" })
  .annotate(OpenApi.Transform, OpenApiErrors.transform)
  .annotateMerge(
    OpenApi.annotations({
      title: "LunarBit Gateway",
      version: VERSION,
      description:
        "Release and update metadata for desktop apps and launchers. Every route is also served under /api/v2."
    })
  ) {}
