import { Cause, Clock, Effect, Exit, Pull, Scope, Stream } from "effect"
import { ProviderFailure } from "../domain/AiFailures.ts"
import type { StreamEvent } from "../ports/AIProvider.ts"
import * as Routing from "./AiRouting.ts"

/** A stream that has produced its first events; `rest` continues it and must be run or its scope closed. */
export interface OpenedStream<A = StreamEvent> {
  readonly provider: string
  readonly model: string
  /** The events up to and including the first token (or the `Done` of an empty completion). */
  readonly head: ReadonlyArray<A>
  readonly rest: Stream.Stream<A, ProviderFailure>
}

/** What the breaker learns when an attempt ends: an answer, a classified failure, or nothing (interrupted). */
const settle = (state: Routing.ProviderState, exit: Exit.Exit<unknown, unknown>, settings: Routing.BreakerSettings) =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    if (Exit.isSuccess(exit)) return Routing.succeeded(state)
    const failure = Cause.squash(exit.cause)
    if (failure instanceof ProviderFailure) return Routing.failed(state, failure, now, settings)
    Routing.abandoned(state)
  })

/** One non-streamed attempt on one provider (`call`), accounted in its load, latency and breaker. */
export const attemptCall = <A>(
  state: Routing.ProviderState,
  call: Effect.Effect<A, ProviderFailure>,
  settings: Routing.BreakerSettings
): Effect.Effect<A, ProviderFailure> =>
  Effect.flatMap(Clock.currentTimeMillis, (startedAt) => {
    Routing.begin(state)
    return call.pipe(
      Effect.tap(() => Effect.map(Clock.currentTimeMillis, (now) => Routing.recordLatency(state, now - startedAt))),
      Effect.onExit((exit) =>
        Effect.andThen(
          Effect.sync(() => Routing.end(state)),
          settle(state, exit, settings)
        )
      )
    )
  })

/**
 * One streamed attempt: opens `stream`, the provider's, in a scope forked from `parent` and reads up to
 * the first token. A failure before it closes that scope (cancelling the upstream request) and lets
 * the router fail over; after it, the rest of the stream carries on in the same scope, which records
 * the outcome in the breaker when it closes.
 */
export const attemptStream = <A>(
  state: Routing.ProviderState,
  model: string,
  stream: Stream.Stream<A, ProviderFailure>,
  settings: Routing.BreakerSettings,
  parent: Scope.Scope
): Effect.Effect<OpenedStream<A>, ProviderFailure> =>
  Effect.gen(function* () {
    const scope = yield* Scope.fork(parent)
    const startedAt = yield* Clock.currentTimeMillis
    Routing.begin(state)
    yield* Scope.addFinalizerExit(scope, (exit) =>
      Effect.andThen(
        Effect.sync(() => Routing.end(state)),
        settle(state, exit, settings)
      )
    )
    const opened = yield* Effect.exit(
      Effect.gen(function* () {
        const pull = yield* Stream.toPull(stream)
        const head = yield* pull.pipe(
          Pull.catchDone(() =>
            Effect.fail(
              new ProviderFailure({
                provider: state.provider.name,
                kind: "incomplete",
                message: "The stream was empty"
              })
            )
          )
        )
        return { pull, head }
      }).pipe(Scope.provide(scope))
    )
    if (Exit.isFailure(opened)) {
      yield* Scope.close(scope, opened)
      return yield* Effect.failCause(opened.cause)
    }
    Routing.recordFirstToken(state, (yield* Clock.currentTimeMillis) - startedAt)
    const { pull, head } = opened.value
    return {
      provider: state.provider.name,
      model,
      head,
      rest: Stream.fromPull(Effect.succeed(pull)).pipe(Stream.onExit((exit) => Scope.close(scope, exit)))
    }
  })
