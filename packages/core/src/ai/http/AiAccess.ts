import { Effect } from "effect"
import * as Permissions from "../../access/domain/Permissions.ts"
import { CurrentPrincipal } from "../../access/http/Middleware.ts"
import { Forbidden } from "../../errors/Errors.ts"

/** The caller of an AI route, who must hold `canUseAI`. */
export const requireAi: Effect.Effect<Permissions.Principal, Forbidden, CurrentPrincipal> = Effect.flatMap(
  Effect.service(CurrentPrincipal),
  (principal) =>
    Permissions.has(principal, "canUseAI")
      ? Effect.succeed(principal)
      : Effect.fail(
          new Forbidden({
            message: "This API key lacks the 'canUseAI' permission",
            details: { required_permission: "canUseAI" }
          })
        )
)
