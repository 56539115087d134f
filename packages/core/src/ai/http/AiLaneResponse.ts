import { Effect, Exit, Stream } from "effect"
import { HttpIncomingMessage, type HttpServerRequest, HttpServerResponse } from "effect/http"
import * as DirectLane from "../../http/DirectLane.ts"
import { type AiLane, isStreamed, type LaneAnswer } from "./AiLane.ts"

/**
 * The AI lane for runtimes served through the platform's request and response (Workers, `embed`,
 * `Gateway.layer`): the body read with the size limit, the answer as a response whose body streams
 * the lane's events, and the upstream request cancelled when the client goes away.
 */
export const serve = <E, R>(
  lane: AiLane,
  head: DirectLane.RequestHead,
  request: HttpServerRequest.HttpServerRequest,
  complete: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R> =>
  Effect.suspend(() => {
    const controller = new AbortController()
    const served = lane(
      head,
      (maxBytes) =>
        Effect.runPromiseExit(
          Effect.provideService(request.text, HttpIncomingMessage.MaxBodySize, maxBytes as never)
        ).then((exit) => {
          if (Exit.isSuccess(exit)) return exit.value
          const failure = exit.cause.reasons[0]
          const tooLarge =
            failure?._tag === "Fail" &&
            failure.error.reason._tag === "RequestParseError" &&
            failure.error.reason.reason === "BodyTooLarge"
          if (tooLarge) return undefined
          throw failure?._tag === "Fail" ? failure.error : new Error("The request body could not be read")
        }),
      controller.signal
    )
    if (served === undefined) return complete
    return Effect.promise(() => served).pipe(
      Effect.onInterrupt(() => Effect.sync(() => controller.abort())),
      Effect.map(toResponse)
    )
  })

const eventsOf = async function* (answer: Extract<LaneAnswer, { readonly next: unknown }>) {
  yield answer.head
  while (true) {
    const events = await answer.next()
    if (events === undefined) return
    yield events
  }
}

const toResponse = (answer: LaneAnswer): HttpServerResponse.HttpServerResponse => {
  if (!isStreamed(answer)) return DirectLane.toResponse(answer)
  const body = Stream.fromAsyncIterable(eventsOf(answer), (error) => error).pipe(
    Stream.orDie,
    Stream.encodeText,
    // After the end this does nothing; before it, the client left.
    Stream.ensuring(Effect.sync(answer.cancel))
  )
  return HttpServerResponse.stream(body, {
    status: answer.status,
    headers: answer.headers,
    contentType: answer.contentType
  })
}
