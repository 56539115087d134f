import { Context, Effect } from "effect"
import type { Principal } from "../access/domain/Permissions.ts"
import { CurrentPrincipal } from "../access/http/Middleware.ts"

/**
 * Endpoint annotation: the endpoint is served on the edge's direct lane (`DirectLane.ts`). Its
 * handler reads only its decoded `params`, `query` and `headers` and the `CurrentPrincipal`, never
 * the platform request, and answers one JSON schema; a `GET` whose answer comes from memory (the
 * catalog, the health of the sources) is the kind that gains from it.
 */
export class Direct extends Context.Service<Direct, true>()("@lunarbit/gateway-core/Direct") {}

const plain = Symbol.for("@lunarbit/gateway-core/Direct/plain")

/**
 * A handler of a {@link Direct} endpoint with its caller as an argument rather than a service, for
 * `HttpApiBuilder`'s `handle`. The direct lane calls `f` itself: when `f` answers an `Exit` (its
 * work is settled in memory), the request is answered without a fiber.
 */
export const handler = <Request, A, E, R>(
  f: (request: Request, principal: Principal) => Effect.Effect<A, E, R>
): ((request: Request) => Effect.Effect<A, E, R | CurrentPrincipal>) =>
  Object.assign(
    (request: Request) => Effect.flatMap(Effect.service(CurrentPrincipal), (principal) => f(request, principal)),
    {
      [plain]: f
    }
  )

/** {@link handler} for a public endpoint: no caller. */
export const publicHandler = <Request, A, E, R>(
  f: (request: Request) => Effect.Effect<A, E, R>
): ((request: Request) => Effect.Effect<A, E, R>) => Object.assign((request: Request) => f(request), { [plain]: f })

/** The function a handler made by {@link handler} or {@link publicHandler} wraps, if any. */
export const plainOf = (
  handler: unknown
): ((request: object, principal: Principal | undefined) => Effect.Effect<unknown, unknown, unknown>) | undefined =>
  typeof handler === "function" ? (handler as { [plain]?: never })[plain] : undefined
