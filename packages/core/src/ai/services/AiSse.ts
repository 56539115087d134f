import { Effect, Exit, Stream } from "effect"
import { Sse } from "effect/encoding"

/**
 * The Server-Sent Events of an upstream response, decoded a network read at a time: each read gives
 * one array of events, so a burst of small events costs one pull rather than one per event (an SDK's
 * async iterator costs a promise round trip per event). `open` gets an `AbortSignal` that is aborted
 * when the stream is closed early, which cancels the upstream request.
 */
export const fromResponse = (open: (signal: AbortSignal) => Promise<Response>): Stream.Stream<Sse.Event, unknown> =>
  Stream.unwrap(
    Effect.gen(function* () {
      // Aborted only when the stream did not run to its end: aborting a finished request costs a
      // DOMException with its stack trace, on every request.
      const controller = yield* Effect.acquireRelease(
        Effect.sync(() => new AbortController()),
        (controller, exit) => (Exit.isSuccess(exit) ? Effect.void : Effect.sync(() => controller.abort()))
      )
      const response = yield* Effect.tryPromise({ try: () => open(controller.signal), catch: (error) => error })
      const body = response.body
      if (body === null) return Stream.empty
      return Stream.fromReadableStream({ evaluate: () => body, onError: (error) => error }).pipe(
        Stream.decodeText(),
        Stream.pipeThroughChannel(Sse.decode())
      )
    })
  )

/** The JSON of an event's data, or a failure that says the upstream sent something else. */
export const json = (event: Sse.Event): { readonly value: any } | { readonly error: unknown } => {
  try {
    return { value: JSON.parse(event.data) }
  } catch {
    return { error: { error: { type: "server_error", message: "The upstream sent a malformed stream event" } } }
  }
}
