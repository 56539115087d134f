import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "effect/http-api"
import { Authenticated } from "../../access/http/Middleware.ts"
import { RequiredPermission } from "../../access/http/RequiredPermission.ts"

const Percentage = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 100 }))

/** A version's rollout as it applies now. */
export const RolloutState = Schema.Struct({
  project: Schema.String,
  channel: Schema.String,
  version: Schema.String,
  percentage: Percentage,
  paused: Schema.Boolean,
  source: Schema.Literals(["catalog", "admin"]),
  updated_at: Schema.optionalKey(Schema.String),
  updated_by: Schema.optionalKey(Schema.String)
})

/** A change: an absent field keeps its current value. */
export const RolloutChange = Schema.Struct({
  percentage: Schema.optionalKey(Percentage),
  paused: Schema.optionalKey(Schema.Boolean)
})

const params = { projectId: Schema.String, channelId: Schema.String, versionId: Schema.String }
const path = "/admin/projects/:projectId/channels/:channelId/versions/:versionId/rollout" as const

/** The staged rollout of one version: read it, change its percentage, pause or resume it (admin key only). */
export class AdminRolloutsGroup extends HttpApiGroup.make("adminRollouts")
  .add(
    HttpApiEndpoint.get("getRollout", path, { params, success: RolloutState })
      .annotate(RequiredPermission, "admin")
      .annotate(OpenApi.Description, "The version's rollout now: from the catalog (and its schedule) or set here"),
    HttpApiEndpoint.put("setRollout", path, { params, payload: RolloutChange, success: RolloutState })
      .annotate(RequiredPermission, "admin")
      .annotate(
        OpenApi.Description,
        "Sets the percentage of clients offered the version and pauses (the kill switch) or resumes it. The state " +
          "replaces the catalog's rollout, is shared by every instance over the key store's database and is audited."
      )
  )
  .middleware(Authenticated) {}
