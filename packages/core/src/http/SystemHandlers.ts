import { Clock, Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { RateLimiter } from "../access/services/RateLimiter.ts"
import { ReleaseSource, type SourceHealth } from "../releases/ports/ReleaseSource.ts"
import { VERSION } from "../Version.ts"
import { Api } from "./Api.ts"
import * as Direct from "./Direct.ts"
import * as Readiness from "./Readiness.ts"

const healthAnswer = (now: number, rateLimits: "ok" | "degraded", sources: ReadonlyArray<SourceHealth>) => ({
  status: rateLimits === "ok" && sources.every((s) => s.status === "ok") ? ("healthy" as const) : ("degraded" as const),
  timestamp: new Date(now).toISOString(),
  version: VERSION,
  sources: sources.map((s) => ({
    name: s.name,
    status: s.status,
    ...(s.lastSuccessAt === undefined ? {} : { last_success_at: s.lastSuccessAt })
  })),
  stores: { rate_limits: rateLimits }
})

const sameHealth = (a: ReadonlyArray<SourceHealth>, b: ReadonlyArray<SourceHealth>) =>
  a.length === b.length &&
  a.every((s, i) => s.name === b[i]!.name && s.status === b[i]!.status && s.lastSuccessAt === b[i]!.lastSuccessAt)

export const SystemHandlers = HttpApiBuilder.group(Api, "system", (handlers) =>
  Effect.gen(function* () {
    const source = yield* ReleaseSource
    const rateLimiter = yield* RateLimiter
    const ready = yield* Readiness.make
    const clock = yield* Clock.Clock
    let last:
      | {
          readonly at: number
          readonly rateLimits: string
          readonly sources: ReadonlyArray<SourceHealth>
          readonly answer: ReturnType<typeof healthAnswer>
        }
      | undefined
    return handlers
      .handle(
        "health",
        // Eager: over sources held in memory, the answer needs no fiber.
        Direct.publicHandler(() =>
          Effect.mapEager(source.health, (sources) => {
            const now = clock.currentTimeMillisUnsafe()
            const rateLimits = rateLimiter.storeStatus()
            // Probes within one millisecond that see the same state share one answer (and its JSON).
            if (
              last !== undefined &&
              last.at === now &&
              last.rateLimits === rateLimits &&
              sameHealth(last.sources, sources)
            ) {
              return last.answer
            }
            const answer = healthAnswer(now, rateLimits, sources)
            last = { at: now, rateLimits, sources, answer }
            return answer
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
