import { Cause, Effect } from "effect"
import type { HttpServerResponse } from "effect/http"
import * as Errors from "../errors/Errors.ts"
import { type GatewayErrorShape, isGatewayError } from "../errors/GatewayError.ts"
import { redact } from "../logging/Redaction.ts"
import type { HooksShape, RequestFacts, ResponseFacts } from "./Hooks.ts"

/**
 * How the edge calls the embedder's hooks. A hook is foreign code: whatever it throws, rejects or
 * dies with (beyond a gateway error from `onRequest`, which refuses the request) is logged with the
 * request id and answered as `500 INTERNAL_ERROR`, once, and the next request is served as usual.
 */

const internalError = () =>
  new Errors.InternalError({ message: "An unexpected error occurred; quote the request id when reporting it" })

// A hook that throws instead of returning an Effect is as much the hook's fault as one that dies.
const call = <A, E>(hook: (facts: A) => Effect.Effect<void, E>, facts: A): Effect.Effect<void, E> => {
  try {
    return hook(facts)
  } catch (error) {
    return Effect.die(error)
  }
}

// The loggers write a call's objects as fields (annotations are not carried), so the id goes there.
const logFailure = (hook: string, requestId: string, cause: Cause.Cause<unknown>) =>
  Effect.logError(`The ${hook} hook failed`, { request_id: requestId, hook, fault: redact(Cause.pretty(cause)) })

/**
 * `handler` behind the `onRequest` hook: it runs once the hook succeeds. A gateway error from the
 * hook fails the request with that error; any other failure fails it with `INTERNAL_ERROR`.
 */
export const beforeHandler = <R>(
  onRequest: NonNullable<HooksShape["onRequest"]>,
  facts: RequestFacts,
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, R> =>
  Effect.flatMap(
    Effect.catchCause(call(onRequest, facts), (cause): Effect.Effect<never, GatewayErrorShape> => {
      const failure = Cause.squash(cause)
      if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
      if (!Cause.hasDies(cause) && isGatewayError(failure)) return Effect.fail(failure)
      return Effect.andThen(logFailure("onRequest", facts.requestId, cause), Effect.fail(internalError()))
    }),
    () => handler
  )

/**
 * The responder of the edge: `finish` when no `onResponse` hook is set; otherwise the hook sees
 * the decided response first, and if it fails the request is answered with `failed` instead.
 */
export const responder = <X>(
  onResponse: HooksShape["onResponse"],
  finish: (exchange: X, response: HttpServerResponse.HttpServerResponse) => HttpServerResponse.HttpServerResponse,
  facts: (exchange: X, status: number) => ResponseFacts,
  failed: (exchange: X, error: GatewayErrorShape) => HttpServerResponse.HttpServerResponse
): ((
  exchange: X,
  response: HttpServerResponse.HttpServerResponse
) => Effect.Effect<HttpServerResponse.HttpServerResponse>) => {
  if (onResponse === undefined) return (exchange, response) => Effect.succeed(finish(exchange, response))
  return (exchange, response) => {
    const seen = facts(exchange, response.status)
    return Effect.matchCauseEffect(call(onResponse, seen), {
      onSuccess: () => Effect.succeed(finish(exchange, response)),
      onFailure: (cause) =>
        Effect.map(logFailure("onResponse", seen.requestId, cause), () =>
          finish(exchange, failed(exchange, internalError()))
        )
    })
  }
}
