import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "effect/http-api"
import { Authenticated } from "../../access/http/Middleware.ts"
import { RequiredPermission } from "../../access/http/RequiredPermission.ts"
import { SourcesDetail } from "./Schemas.ts"

/** One repository's answer to a synchronisation. */
export const SyncOutcome = Schema.Struct({
  source: Schema.String,
  target: Schema.String,
  status: Schema.Literals(["updated", "unchanged", "failed"]),
  projects: Schema.Array(Schema.String),
  duration_ms: Schema.Number,
  error: Schema.optionalKey(Schema.Struct({ code: Schema.String, message: Schema.String }))
})

export const SyncResult = Schema.Struct({
  synced_at: Schema.String,
  sources: Schema.Array(SyncOutcome)
})

/** `POST /admin/sync`: synchronise the release sources now; `GET /admin/sources`: how each fares. Only the admin key may. */
export class AdminSyncGroup extends HttpApiGroup.make("adminSync")
  .add(
    HttpApiEndpoint.post("sync", "/admin/sync", { success: SyncResult }).annotate(
      OpenApi.Description,
      "Synchronises every GitHub repository now (admin key only) and reports each one: updated, unchanged " +
        "(GitHub answered 304) or failed (the last good catalog is still served)"
    ),
    HttpApiEndpoint.get("sources", "/admin/sources", { success: SourcesDetail })
      .annotate(RequiredPermission, "admin")
      .annotate(
        OpenApi.Description,
        "Each release source's status and last error (admin key only); /health shows statuses only"
      )
  )
  .middleware(Authenticated) {}
