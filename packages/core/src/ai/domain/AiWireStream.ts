import { Cause, Clock, Duration, Effect, type Pull, Stream } from "effect"
import type { AttemptLimits } from "../ports/AIProvider.ts"
import { ProviderFailure } from "./AiFailures.ts"
import { pullWithin } from "./AiStreamGuard.ts"
import * as AiTokens from "./AiTokens.ts"
import * as OpenAiWire from "./OpenAiWire.ts"

/**
 * What a forwarded stream has cost so far: the upstream's usage once its usage chunk passed, and
 * until then the text forwarded, from which the tokens of a stream cut short are counted.
 */
export interface Meter {
  usage: OpenAiWire.Usage | undefined
  readonly forwarded: Array<string>
}

export const meter = (): Meter => ({ usage: undefined, forwarded: [] })

// Escaped quotes inside strings never match these: `\"usage\"` has a backslash before its last quote.
const usageObject = /"usage"\s*:\s*\{/
const nullUsage = /,\s*"usage"\s*:\s*null/g
const finishReason = /"finish_reason"\s*:\s*"/
const contentText = /"(?:content|arguments)"\s*:\s*"((?:[^"\\]|\\.)*)"/g

/** The tokens of a stream: the upstream's usage, or counted locally from what was forwarded. */
export const tokens = (meter: Meter, body: OpenAiWire.Body): OpenAiWire.Usage => {
  if (meter.usage !== undefined) return meter.usage
  let completion = ""
  for (const text of meter.forwarded) {
    for (const match of text.matchAll(contentText)) {
      try {
        completion += JSON.parse(`"${match[1]}"`)
      } catch {
        // An escape JSON does not know: its raw text counts about the same.
        completion += match[1]
      }
    }
  }
  return AiTokens.countUsage(OpenAiWire.promptTexts(body), completion)
}

const dataOf = (event: string): string => {
  let data = ""
  for (const line of event.split("\n")) {
    if (line.startsWith("data:")) data += line.slice(line[5] === " " ? 6 : 5)
  }
  return data
}

const parse = (data: string): unknown => {
  try {
    return JSON.parse(data)
  } catch {
    return undefined
  }
}

export interface ScanOptions {
  readonly provider: string
  /** Classifies an error the provider sent inside the stream. */
  readonly classify: (error: unknown) => ProviderFailure
  readonly limits: AttemptLimits
  readonly meter: Meter
  /** Whether to remove the usage the gateway asked for and the client did not. */
  readonly stripUsage: boolean
}

const millis = (input: Duration.Input) => Duration.toMillis(Duration.fromInputUnsafe(input))

/**
 * Forwards an OpenAI-wire SSE stream a batch of whole events at a time, reading it only where it
 * must: the usage chunk (kept for the meter, removed when only the gateway asked for it), an error
 * event (the stream fails with it after the events before it), and the finish (a stream that ends
 * without a finish reason or `[DONE]` failed). The first event must come within the first-token
 * limit, and no silence may last longer than the idle limit.
 */
export const scan = (
  chunks: Stream.Stream<string, ProviderFailure>,
  options: ScanOptions
): Stream.Stream<string, ProviderFailure> =>
  Stream.transformPull(chunks, (pull) =>
    Effect.map(Clock.currentTimeMillis, (startedAt) => {
      const { limits, meter } = options
      const firstBy = startedAt + millis(limits.firstTokenTimeout)
      let buffer = ""
      let started = false
      let finished = false
      let ended = false
      let reported: ProviderFailure | undefined

      // Reads the events one by one: only batches carrying usage or an error come here.
      const sift = (batch: string): string => {
        let kept = ""
        for (const event of batch.split("\n\n")) {
          if (event === "") continue
          const named = /^event:\s*error\s*$/m.test(event)
          const data = named || event.includes('"error"') || usageObject.test(event) ? dataOf(event) : undefined
          const parsed = data === undefined ? undefined : (parse(data) as Record<string, unknown> | undefined)
          if (named || (parsed?.error !== undefined && parsed?.error !== null)) {
            reported = options.classify({ error: parsed?.error ?? parsed ?? { message: data } })
            break
          }
          if (parsed?.usage !== undefined && parsed.usage !== null) {
            meter.usage = OpenAiWire.usageOf(parsed.usage)
            if (options.stripUsage && Array.isArray(parsed.choices) && parsed.choices.length === 0) continue
          }
          kept += `${event}\n\n`
        }
        return kept
      }

      const forward = (batch: string): string => {
        let out = usageObject.test(batch) || batch.includes('"error"') || batch.includes("event:") ? sift(batch) : batch
        if (options.stripUsage) out = out.replace(nullUsage, "")
        if (finishReason.test(out) || out.includes("data: [DONE]")) finished = true
        if (meter.usage === undefined && out !== "") meter.forwarded.push(out)
        return out
      }

      const end = (): Pull.Pull<readonly [string], ProviderFailure> => {
        ended = true
        const rest = buffer.trim() === "" ? "" : forward(`${buffer}\n\n`)
        buffer = ""
        if (reported !== undefined) return rest === "" ? Effect.fail(reported) : Effect.succeed([rest])
        if (!finished) {
          const cut = new ProviderFailure({
            provider: options.provider,
            kind: "incomplete",
            message: "The upstream stream ended before the completion finished"
          })
          if (rest === "") return Effect.fail(cut)
          reported = cut
        }
        return rest === "" ? Cause.done() : Effect.succeed([rest])
      }

      const next: Pull.Pull<readonly [string], ProviderFailure> = Effect.suspend(() => {
        if (reported !== undefined) {
          ended = true
          const failed = reported
          reported = undefined
          return Effect.fail(failed)
        }
        if (ended) return Cause.done()
        return pullWithin(pull, options.provider, limits, firstBy, started).pipe(
          Effect.flatMap((pieces): Pull.Pull<readonly [string], ProviderFailure> => {
            if (pieces === undefined) return end()
            for (const piece of pieces) buffer += piece
            if (buffer.includes("\r")) buffer = buffer.replace(/\r\n?/g, "\n")
            const cut = buffer.lastIndexOf("\n\n")
            if (cut === -1) return next
            const out = forward(buffer.slice(0, cut + 2))
            buffer = buffer.slice(cut + 2)
            if (out === "") return next
            started = true
            return Effect.succeed([out] as const)
          })
        )
      })
      return next
    })
  )
