import { type Duration, Effect } from "effect"

/**
 * Time limits on upstream calls, whose verdict waits for what arrived in time.
 *
 * When the gateway's event loop stalls (a paused or starved process, a long synchronous task), a
 * limit's timer comes due while the provider's answer may already wait in the socket, and the
 * event loop runs due timers before it reads sockets. Taken at once, the verdict would blame the
 * provider for the gateway's stall: the answer would be thrown away, and a burst of such verdicts
 * would open the provider's circuit. So the verdict waits one more turn of the event loop, past
 * the reads: a call that is still unanswered then has really run out of time.
 */

/** Runs `verdict` once the event loop has read what arrived so far; cancel it with `clearTimeout`. */
export const afterPendingReads = (verdict: () => void): ReturnType<typeof setTimeout> => setTimeout(verdict, 0)

/**
 * `self`, or `orElse` when `duration` has passed without an outcome and the reads pending then
 * have not brought one: `Effect.timeoutOrElse` with the verdict of {@link afterPendingReads}.
 */
export const timeoutOrElse = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  duration: Duration.Input,
  orElse: () => Effect.Effect<never, E2>
): Effect.Effect<A, E | E2, R> =>
  Effect.raceFirst(
    self,
    // `yieldNow` resumes from the scheduler's next macrotask (`setImmediate` on Node, after the reads).
    Effect.sleep(duration).pipe(Effect.andThen(Effect.yieldNow), Effect.andThen(Effect.suspend(orElse)))
  )
