import { DateTime, Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { ReleaseSource } from "../releases/ports/ReleaseSource.ts"
import { VERSION } from "../Version.ts"
import { Api } from "./Api.ts"
import * as Readiness from "./Readiness.ts"

export const SystemHandlers = HttpApiBuilder.group(Api, "system", (handlers) =>
  Effect.gen(function* () {
    const source = yield* ReleaseSource
    const ready = yield* Readiness.make
    return handlers
      .handle("health", () =>
        Effect.gen(function* () {
          const sources = yield* source.health
          const now = yield* DateTime.now
          return {
            status: sources.every((s) => s.status === "ok") ? ("healthy" as const) : ("degraded" as const),
            timestamp: DateTime.formatIso(now),
            version: VERSION,
            sources: sources.map((s) => ({
              name: s.name,
              status: s.status,
              ...(s.lastSuccessAt === undefined ? {} : { last_success_at: s.lastSuccessAt }),
              ...(s.lastError === undefined ? {} : { last_error: s.lastError })
            }))
          }
        })
      )
      .handle("live", () => Effect.succeed({ status: "live" as const }))
      .handle("ready", () => ready)
  })
)
