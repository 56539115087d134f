import { Effect, Exit, Scope, Stream } from "effect"
import { HttpServerResponse } from "effect/http"
import { AiStreamInterrupted } from "../../errors/Errors.ts"
import type { GatewayErrorShape } from "../../errors/GatewayError.ts"
import * as ErrorEnvelope from "../../http/ErrorEnvelope.ts"
import { RequestScope, type RequestScopeShape } from "../../http/RequestScope.ts"
import type { ProviderFailure } from "../domain/AiFailures.ts"
import type { StreamEvent } from "../ports/AIProvider.ts"
import type { OpenedStream, RouteError } from "../services/ModelRouter.ts"

/** The last event of a stream that finished. */
export type DoneEvent = Extract<StreamEvent, { readonly _tag: "Done" }>

/** How one wire format writes a stream's parts as SSE text. */
export interface SseFormat {
  readonly delta: (text: string) => string
  readonly done: (event: DoneEvent) => string
  /** The last event of a stream that failed after it started. */
  readonly error: (error: GatewayErrorShape, scope: RequestScopeShape) => string
}

/** The SSE frame of one event: `event:` when named, and `data:` as JSON. */
export const frame = (data: unknown, event?: string): string =>
  `${event === undefined ? "" : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`

/** What a client learns when the upstream fails after the first token: a typed error, never a short answer. */
export const interrupted = (failure: ProviderFailure): AiStreamInterrupted =>
  new AiStreamInterrupted({
    message: `The AI provider failed mid-stream (${failure.kind}); the answer is incomplete`,
    details: { provider: failure.provider, reason: failure.kind }
  })

/**
 * A failure after an OpenAI-wire stream started: an `error` payload, which the SDK raises as an
 * `APIError`, and no `[DONE]`, so no client can take the answer for complete.
 */
export const openAiErrorFrame = (error: GatewayErrorShape, scope: RequestScopeShape) =>
  `data: ${JSON.stringify({ error: { ...ErrorEnvelope.body(error, scope).error, type: "server_error", param: null } })}\n\n`

/** The headers of every SSE answer besides its content type. */
export const sseHeaders = { "cache-control": "no-cache", "x-accel-buffering": "no" } as const

/**
 * Opens a stream (with failover) before the response starts, so a request no provider can answer
 * gets a proper HTTP error. The upstream lives in a scope the response body closes: when the
 * client disconnects the server interrupts the body, which cancels the upstream request.
 */
const openScoped = <A>(open: Effect.Effect<OpenedStream<A>, RouteError, Scope.Scope>) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const opened = yield* open.pipe(
      Scope.provide(scope),
      Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause)))
    )
    return { scope, opened }
  })

const sse = (body: Stream.Stream<string>) =>
  HttpServerResponse.stream(Stream.encodeText(body), { contentType: "text/event-stream", headers: sseHeaders })

/**
 * Answers a streamed completion as Server-Sent Events in `format`. After the start, a failure
 * becomes the format's error event.
 */
export const respond = (options: {
  readonly open: Effect.Effect<OpenedStream, RouteError, Scope.Scope>
  readonly format: (opened: OpenedStream) => SseFormat
  /** Runs on the final event, before it is sent (usage accounting). */
  readonly onDone: (event: DoneEvent, opened: OpenedStream) => Effect.Effect<void>
  /** Runs when the stream ended without its final event (failed, or the client left), with the text sent. */
  readonly onCut: (text: string) => Effect.Effect<void>
}): Effect.Effect<HttpServerResponse.HttpServerResponse, RouteError> =>
  Effect.gen(function* () {
    const { scope, opened } = yield* openScoped(options.open)
    const requestScope = yield* RequestScope
    const format = options.format(opened)
    let sent = ""
    let finished = false
    // One string per batch of events, so a burst from the upstream is one write to the client.
    const encode = (events: ReadonlyArray<StreamEvent>) => {
      let text = ""
      let done: DoneEvent | undefined
      for (const event of events) {
        if (event._tag === "Delta") {
          sent += event.text
          text += format.delta(event.text)
        } else {
          finished = true
          done = event
          text += format.done(event)
        }
      }
      return done === undefined
        ? Effect.succeed([text] as const)
        : Effect.as(options.onDone(done, opened), [text] as const)
    }
    return sse(
      Stream.concat(
        Stream.fromEffect(Effect.map(encode(opened.head), ([text]) => text)),
        Stream.mapArrayEffect(opened.rest, encode)
      ).pipe(
        Stream.catchTag("ProviderFailure", (failure) =>
          Stream.succeed(format.error(interrupted(failure), requestScope))
        ),
        Stream.onExit((exit) =>
          Effect.andThen(
            Effect.suspend(() => (finished ? Effect.void : options.onCut(sent))),
            Scope.close(scope, exit)
          )
        )
      )
    )
  })

/**
 * Answers a stream that is already SSE text (OpenAI's wire, forwarded): its events as they come,
 * then `error` (the error event) if it fails after the start. `onEnd` runs however it ends,
 * finished, failed or abandoned by the client, so what it cost is always accounted.
 */
export const respondText = (options: {
  readonly open: Effect.Effect<OpenedStream<string>, RouteError, Scope.Scope>
  readonly error: (error: GatewayErrorShape, scope: RequestScopeShape) => string
  readonly onEnd: Effect.Effect<void>
}): Effect.Effect<HttpServerResponse.HttpServerResponse, RouteError> =>
  Effect.gen(function* () {
    const { scope, opened } = yield* openScoped(options.open)
    const requestScope = yield* RequestScope
    return sse(
      Stream.concat(Stream.fromIterable(opened.head), opened.rest).pipe(
        Stream.catchTag("ProviderFailure", (failure) =>
          Stream.succeed(options.error(interrupted(failure), requestScope))
        ),
        Stream.onExit((exit) => Effect.andThen(options.onEnd, Scope.close(scope, exit)))
      )
    )
  })
