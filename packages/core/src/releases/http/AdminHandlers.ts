import { DateTime, Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { CurrentPrincipal } from "../../access/http/Middleware.ts"
import { Forbidden } from "../../errors/Errors.ts"
import { Api } from "../../http/Api.ts"
import { redactString } from "../../logging/Redaction.ts"
import { ReleaseSource } from "../ports/ReleaseSource.ts"

export const AdminSyncHandlers = HttpApiBuilder.group(Api, "adminSync", (handlers) =>
  Effect.gen(function* () {
    const source = yield* ReleaseSource
    return handlers
      .handle("sources", () =>
        Effect.map(source.health, (sources) => ({
          sources: sources.map((s) => ({
            name: s.name,
            status: s.status,
            ...(s.lastSuccessAt === undefined ? {} : { last_success_at: s.lastSuccessAt }),
            ...(s.lastError === undefined ? {} : { last_error: redactString(s.lastError) })
          }))
        }))
      )
      .handle("sync", () =>
        Effect.gen(function* () {
          const principal = yield* CurrentPrincipal
          if (!principal.isAdmin) {
            return yield* new Forbidden({
              message: "Only the admin key may synchronise the release sources",
              details: { required: "admin" }
            })
          }
          const outcomes = yield* source.sync ?? Effect.succeed([])
          return {
            synced_at: DateTime.formatIso(yield* DateTime.now),
            sources: outcomes.map((o) => ({
              source: o.source,
              target: o.target,
              status: o.status,
              projects: o.projects,
              duration_ms: o.durationMs,
              ...(o.error === undefined ? {} : { error: { ...o.error, message: redactString(o.error.message) } })
            }))
          }
        })
      )
  })
)
