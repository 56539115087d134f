import { Context } from "effect"
import { HttpApiMiddleware, HttpApiSecurity } from "effect/http-api"
import { GatewayErrorSchema } from "../../http/ErrorEnvelope.ts"
import type { Principal } from "../domain/Permissions.ts"

/** The authenticated caller, provided to every handler behind `Authenticated`. */
export class CurrentPrincipal extends Context.Service<CurrentPrincipal, Principal>()(
  "@lunarbit/gateway-core/CurrentPrincipal"
) {}

/**
 * Bearer-key authentication. It wraps the decoding of path, query and body, so an unauthenticated
 * probe is refused before it can learn anything about a route's input shape.
 */
export class Authenticated extends HttpApiMiddleware.Service<Authenticated, { provides: CurrentPrincipal }>()(
  "@lunarbit/gateway-core/Authenticated",
  { security: { bearer: HttpApiSecurity.bearer }, error: GatewayErrorSchema }
) {}

/**
 * The outermost middleware of every endpoint: renders gateway errors and request validation
 * failures as the spec's envelope. Errors outside endpoints (unknown routes, defects) are rendered
 * by the edge with the same envelope.
 */
export class ErrorHandling extends HttpApiMiddleware.Service<ErrorHandling>()("@lunarbit/gateway-core/ErrorHandling", {
  error: GatewayErrorSchema
}) {}
