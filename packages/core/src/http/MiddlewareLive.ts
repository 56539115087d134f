import { Effect, Layer, Redacted } from "effect"
import { HttpApiError } from "effect/http-api"
import { PayloadTooLarge } from "../errors/Errors.ts"
import { isGatewayError } from "../errors/GatewayError.ts"
import { Authentication } from "../services/Authentication.ts"
import * as ErrorEnvelope from "./ErrorEnvelope.ts"
import { Authenticated, CurrentPrincipal, ErrorHandling } from "./Middleware.ts"

export const AuthenticatedLive = Layer.effect(
  Authenticated,
  Effect.gen(function* () {
    const authentication = yield* Authentication
    return Authenticated.of({
      bearer: (httpEffect, { credential }) =>
        Effect.flatMap(authentication.authenticate(Redacted.value(credential)), (principal) =>
          Effect.provideService(httpEffect, CurrentPrincipal, principal)
        )
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
