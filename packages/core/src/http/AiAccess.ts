import { Effect } from "effect"
import * as Permissions from "../domain/Permissions.ts"
import { Forbidden } from "../errors/Errors.ts"
import { CurrentPrincipal } from "./Middleware.ts"

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
