import { Clock, Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { RateLimiter } from "../access/services/RateLimiter.ts"
import { ReleaseSource } from "../releases/ports/ReleaseSource.ts"
import { VERSION } from "../Version.ts"
import { Api } from "./Api.ts"
import * as Direct from "./Direct.ts"
import * as Readiness from "./Readiness.ts"

export const SystemHandlers = HttpApiBuilder.group(Api, "system", (handlers) =>
  Effect.gen(function* () {
    const source = yield* ReleaseSource
    const rateLimiter = yield* RateLimiter
    const ready = yield* Readiness.make
    const clock = yield* Clock.Clock
    return handlers
      .handle(
        "health",
        // Eager: over sources held in memory, the answer needs no fiber.
        Direct.publicHandler(() =>
          Effect.mapEager(source.health, (sources) => {
            const now = new Date(clock.currentTimeMillisUnsafe())
            const rateLimits = rateLimiter.storeStatus()
            const healthy = rateLimits === "ok" && sources.every((s) => s.status === "ok")
            return {
              status: healthy ? ("healthy" as const) : ("degraded" as const),
              timestamp: now.toISOString(),
              version: VERSION,
              sources: sources.map((s) => ({
                name: s.name,
                status: s.status,
                ...(s.lastSuccessAt === undefined ? {} : { last_success_at: s.lastSuccessAt })
              })),
              stores: { rate_limits: rateLimits }
            }
          })
        )
      )
      .handle(
        "live",
        Direct.publicHandler(() => Effect.succeed({ status: "live" as const }))
      )
      .handle("ready", () => ready)
  })
)
