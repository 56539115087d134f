import { Effect, Layer, Redacted } from "effect"
import { refusal } from "../../access/http/MiddlewareLive.ts"
import { Authentication } from "../../access/services/Authentication.ts"
import { RequestScope } from "../../http/RequestScope.ts"
import { FeedAccess, FeedCaller } from "./FeedAccess.ts"

export const FeedAccessLive = Layer.effect(
  FeedAccess,
  Effect.gen(function* () {
    const authentication = yield* Authentication
    return FeedAccess.of({
      bearer: (httpEffect, { credential }) =>
        Effect.gen(function* () {
          const token = Redacted.value(credential)
          if (token === "") return yield* Effect.provideService(httpEffect, FeedCaller, undefined)
          const scope = yield* RequestScope
          // The edge has usually checked this credential already, to pick the rate-limit buckets.
          const outcome =
            scope.authentication?.credential === token
              ? scope.authentication.outcome
              : yield* Effect.exit(authentication.authenticate(token))
          const principal = yield* outcome
          const refused = refusal(principal, "canCheckUpdates")
          if (refused !== undefined) return yield* refused
          return yield* Effect.provideService(httpEffect, FeedCaller, principal)
        })
    })
  })
)
