import { Cause, Clock, Duration, Effect, Pull, Stream } from "effect"
import type { AttemptLimits, ChatRequest, StreamChunk, StreamEvent, TokenUsage } from "../ports/AIProvider.ts"
import { ProviderFailure } from "./AiFailures.ts"
import * as AiTimeLimits from "./AiTimeLimits.ts"
import * as AiTokens from "./AiTokens.ts"

type Events = readonly [StreamEvent, ...Array<StreamEvent>]

const millis = (input: Duration.Input) => Duration.toMillis(Duration.fromInputUnsafe(input))

/**
 * One pull of a stream within its time limits: before it started, what is left until `firstBy`
 * (counted from the start, so keep-alive chunks cannot stretch it); after, the idle limit. The end
 * of the stream is `undefined`.
 */
export const pullWithin = <A>(
  pull: Pull.Pull<A, ProviderFailure>,
  provider: string,
  limits: AttemptLimits,
  firstBy: number,
  started: boolean
): Effect.Effect<A | undefined, ProviderFailure> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const idle = millis(limits.idleTimeout)
    const within = AiTimeLimits.timeoutOrElse(pull, started ? idle : Math.max(0, firstBy - now), () =>
      Effect.fail(
        new ProviderFailure({
          provider,
          kind: "timeout",
          message: started
            ? `The stream paused for more than ${idle} ms`
            : `No first token within ${millis(limits.firstTokenTimeout)} ms`
        })
      )
    )
    return Pull.catchDone(within, () => Effect.succeed(undefined))
  })

/**
 * Turns an adapter's chunks into the port's events and enforces what makes a stream trustworthy:
 * the first token within `firstTokenTimeout` of the start (counted from the start, so keep-alive
 * chunks cannot stretch it), no silence longer than `idleTimeout` after it, and a finish reason
 * before the end: a stream that just stops is a failure, never a short answer. It ends with one
 * `Done` carrying the usage, counted locally when the provider sent none.
 */
export const guard = (
  provider: string,
  chunks: Stream.Stream<StreamChunk, ProviderFailure>,
  /** Classifies an error the provider sent inside the stream. */
  classify: (error: unknown) => ProviderFailure,
  request: ChatRequest,
  limits: AttemptLimits
): Stream.Stream<StreamEvent, ProviderFailure> =>
  Stream.transformPull(chunks, (pull) =>
    Effect.map(Clock.currentTimeMillis, (startedAt) => {
      const firstTokenBy = startedAt + millis(limits.firstTokenTimeout)
      let started = false
      let ended = false
      let text = ""
      let model = request.model
      let finishReason: string | undefined
      let usage: TokenUsage | undefined
      let reported: ProviderFailure | undefined

      const failure = (kind: "timeout" | "incomplete", message: string) =>
        new ProviderFailure({ provider, kind, message })

      const finish = (): Effect.Effect<Events, ProviderFailure> => {
        ended = true
        if (finishReason === undefined) {
          return Effect.fail(failure("incomplete", "The upstream stream ended before the completion finished"))
        }
        const counted = usage === undefined
        return Effect.succeed([
          {
            _tag: "Done",
            model,
            finishReason,
            usage: usage ?? AiTokens.countUsage(request.messages, text),
            usageCounted: counted
          }
        ])
      }

      const read = (chunkList: ReadonlyArray<StreamChunk>): Array<StreamEvent> => {
        const events: Array<StreamEvent> = []
        for (const chunk of chunkList) {
          if (chunk.error !== undefined) {
            reported = classify(chunk.error)
            break
          }
          if (chunk.model !== undefined && chunk.model !== "") model = chunk.model
          if (chunk.usage !== undefined) usage = chunk.usage
          if (chunk.finishReason !== undefined && chunk.finishReason !== null) finishReason = chunk.finishReason
          if (chunk.text !== undefined && chunk.text !== "") {
            started = true
            text += chunk.text
            events.push({ _tag: "Delta", text: chunk.text })
          }
        }
        return events
      }

      const next: Pull.Pull<Events, ProviderFailure> = Effect.suspend(() => {
        if (reported !== undefined) {
          ended = true
          return Effect.fail(reported)
        }
        if (ended) return Cause.done()
        return pullWithin(pull, provider, limits, firstTokenBy, started).pipe(
          Effect.flatMap((chunkList): Pull.Pull<Events, ProviderFailure> => {
            if (chunkList === undefined) return finish()
            const events = read(chunkList)
            // Events before a reported error go out first; the next pull fails with it.
            return events.length > 0 ? Effect.succeed(events as unknown as Events) : next
          })
        )
      })
      return next
    })
  )
