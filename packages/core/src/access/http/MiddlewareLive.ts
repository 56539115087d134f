import { Cause, Context, Effect, Exit, Layer, Redacted } from "effect"
import { HttpServerRequest } from "effect/http"
import { HttpApiError } from "effect/http-api"
import { Forbidden, PayloadTooLarge, type Unauthorized } from "../../errors/Errors.ts"
import { isGatewayError } from "../../errors/GatewayError.ts"
import * as ErrorEnvelope from "../../http/ErrorEnvelope.ts"
import { RequestScope } from "../../http/RequestScope.ts"
import { redactPath } from "../../logging/Redaction.ts"
import * as Permissions from "../domain/Permissions.ts"
import { Authentication } from "../services/Authentication.ts"
import { Keys } from "../services/Keys.ts"
import { Authenticated, CurrentPrincipal, ErrorHandling } from "./Middleware.ts"
import { RequiredPermission } from "./RequiredPermission.ts"

/** Why `principal` may not call an endpoint needing `required`, if it may not. */
export const refusal = (principal: Permissions.Principal, required: Permissions.Permission | "admin" | undefined) => {
  if (required === undefined || principal.isAdmin) return undefined
  if (required === "admin") {
    return new Forbidden({ message: "This operation needs the admin key", details: { required_permission: "admin" } })
  }
  if (Permissions.has(principal, required)) return undefined
  return new Forbidden({
    message: `This API key lacks the '${required}' permission`,
    details: { required_permission: required }
  })
}

export const AuthenticatedLive = Layer.effect(
  Authenticated,
  Effect.gen(function* () {
    const authentication = yield* Authentication
    const keys = yield* Keys
    return Authenticated.of({
      bearer: (httpEffect, { credential, endpoint, group }) =>
        Effect.gen(function* () {
          const token = Redacted.value(credential)
          const scope = yield* RequestScope
          // The edge has usually checked this credential already, to pick the rate-limit buckets.
          const outcome =
            scope.authentication?.credential === token
              ? scope.authentication.outcome
              : yield* Effect.exit(authentication.authenticate(token))
          const required = Context.getOrUndefined(endpoint.annotations, RequiredPermission)
          const principal = Exit.isSuccess(outcome) ? outcome.value : undefined
          const error =
            principal === undefined
              ? Cause.squash((outcome as Exit.Failure<never, Unauthorized>).cause)
              : refusal(principal, required)
          if (error !== undefined) {
            if (group.identifier === "keys") {
              const request = yield* HttpServerRequest.HttpServerRequest
              yield* keys.audit("admin.auth_failed", { principal, requestId: scope.requestId }, undefined, {
                method: request.method,
                path: redactPath(request.url.split("?")[0]!),
                reason: (error as Unauthorized | Forbidden).code
              })
            }
            return yield* Effect.fail(error as Unauthorized | Forbidden)
          }
          return yield* Effect.provideService(httpEffect, CurrentPrincipal, principal!)
        })
    })
  })
)

export const ErrorHandlingLive = Layer.succeed(ErrorHandling, (httpEffect) =>
  Effect.catch(httpEffect, (error: unknown) => {
    if (isGatewayError(error)) return ErrorEnvelope.response(error)
    if (HttpApiError.HttpApiSchemaError.is(error) && error.kind !== "Body" && error.kind !== "ResponseHeaders") {
      return ErrorEnvelope.response(ErrorEnvelope.fromSchemaError(error))
    }
    if (HttpApiError.HttpApiPayloadTooLarge.is(error)) {
      return ErrorEnvelope.response(new PayloadTooLarge({ message: "The request body is too large" }))
    }
    // Response encoding failures and anything else are faults: the edge reports them as INTERNAL_ERROR.
    return Effect.die(error)
  })
)
