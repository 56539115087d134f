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
// `[DONE]` is a line of its own: inside a JSON string a line break is escaped, so text that quotes
// it is no finish.
const doneLine = /^data: \[DONE\]/m
// What `forward` reads a batch for, found in one pass: a usage object; an error payload or a named
// event (the batch is then read event by event); a finish reason or `[DONE]`.
const landmarks = new RegExp(
  [usageObject.source, '"error"', "^event:", finishReason.source, doneLine.source].join("|"),
  "gm"
)
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

export interface ScannerOptions {
  readonly provider: string
  /** Classifies an error the provider sent inside the stream. */
  readonly classify: (error: unknown) => ProviderFailure
  readonly meter: Meter
  /** Whether to remove the usage the gateway asked for and the client did not. */
  readonly stripUsage: boolean
}

export interface ScanOptions extends ScannerOptions {
  readonly limits: AttemptLimits
}

/** Reads an OpenAI-wire SSE stream as its text arrives; see {@link scanner}. */
export interface Scanner {
  /** Takes the next text; answers the whole events to forward, `""` while none is complete. */
  readonly push: (text: string) => string
  /** An error the upstream sent in the stream: nothing after it is forwarded. */
  readonly failure: () => ProviderFailure | undefined
  /** The stream ended: what was left to forward, and its failure if it never finished. */
  readonly end: () => { readonly rest: string; readonly failure: ProviderFailure | undefined }
}

/**
 * The reading of a forwarded stream, with no runtime of its own, so every path that forwards one
 * reads it the same way: whole events only, read only where they must be (the usage chunk, kept for
 * the meter and removed when only the gateway asked for it; an error event; the finish: a stream
 * that ends without a finish reason or `[DONE]` failed).
 */
export const scanner = (options: ScannerOptions): Scanner => {
  const { meter } = options
  let buffer = ""
  let finished = false
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

  // A batch whose only event to read is one usage chunk (a stream's usual last batch), found at
  // `at`: that event is read alone, the others pass without being split apart.
  const readUsage = (batch: string, at: number): string => {
    const boundary = batch.lastIndexOf("\n\n", at)
    const start = boundary === -1 ? 0 : boundary + 2
    const end = batch.indexOf("\n\n", at) + 2
    const parsed = parse(dataOf(batch.slice(start, end - 2))) as Record<string, unknown> | undefined
    if (parsed?.usage === undefined || parsed.usage === null) return sift(batch)
    meter.usage = OpenAiWire.usageOf(parsed.usage)
    const onlyUsage = options.stripUsage && Array.isArray(parsed.choices) && parsed.choices.length === 0
    return onlyUsage ? batch.slice(0, start) + batch.slice(end) : batch
  }

  const forward = (batch: string): string => {
    // One pass finds what the batch holds to read; each search of a batch costs about as much as
    // this one pass, and a streamed answer's usual batch has all of these to look for.
    let usageAt = -1
    let usages = 0
    let toSift = false
    let finishes = false
    landmarks.lastIndex = 0
    for (let found = landmarks.exec(batch); found !== null; found = landmarks.exec(batch)) {
      const mark = found[0]
      if (mark.startsWith('"usage"')) {
        if (usages++ === 0) usageAt = found.index
      } else if (mark === '"error"' || mark === "event:") {
        toSift = true
        break
      } else {
        finishes = true
      }
    }
    let out: string
    if (toSift || usages > 1) {
      out = sift(batch)
      finishes = finishReason.test(out) || doneLine.test(out)
    } else {
      out = usages === 1 ? readUsage(batch, usageAt) : batch
    }
    if (options.stripUsage) out = out.replace(nullUsage, "")
    if (finishes) finished = true
    if (meter.usage === undefined && out !== "") meter.forwarded.push(out)
    return out
  }

  return {
    push: (text) => {
      if (reported !== undefined) return ""
      buffer += text
      if (buffer.includes("\r")) buffer = buffer.replace(/\r\n?/g, "\n")
      const cut = buffer.lastIndexOf("\n\n")
      if (cut === -1) return ""
      const out = forward(buffer.slice(0, cut + 2))
      buffer = buffer.slice(cut + 2)
      return out
    },
    failure: () => reported,
    end: () => {
      const rest = reported !== undefined || buffer.trim() === "" ? "" : forward(`${buffer}\n\n`)
      buffer = ""
      if (reported !== undefined || finished) return { rest, failure: reported }
      return {
        rest,
        failure: new ProviderFailure({
          provider: options.provider,
          kind: "incomplete",
          message: "The upstream stream ended before the completion finished"
        })
      }
    }
  }
}

const millis = (input: Duration.Input) => Duration.toMillis(Duration.fromInputUnsafe(input))

/**
 * Forwards an OpenAI-wire SSE stream a batch of whole events at a time, read by {@link scanner}:
 * an error event fails the stream after the events before it, as does an end without a finish.
 * The first event must come within the first-token limit, and no silence may last longer than the
 * idle limit.
 */
export const scan = (
  chunks: Stream.Stream<string, ProviderFailure>,
  options: ScanOptions
): Stream.Stream<string, ProviderFailure> =>
  Stream.transformPull(chunks, (pull) =>
    Effect.map(Clock.currentTimeMillis, (startedAt) => {
      const { limits } = options
      const firstBy = startedAt + millis(limits.firstTokenTimeout)
      const reader = scanner(options)
      let started = false
      let ended = false
      // A failure to raise once the events before it have been forwarded.
      let pending: ProviderFailure | undefined

      const next: Pull.Pull<readonly [string], ProviderFailure> = Effect.suspend(() => {
        if (pending !== undefined) {
          ended = true
          const failed = pending
          pending = undefined
          return Effect.fail(failed)
        }
        if (ended) return Cause.done()
        return pullWithin(pull, options.provider, limits, firstBy, started).pipe(
          Effect.flatMap((pieces): Pull.Pull<readonly [string], ProviderFailure> => {
            if (pieces === undefined) {
              ended = true
              const { rest, failure } = reader.end()
              if (failure !== undefined && rest === "") return Effect.fail(failure)
              pending = failure
              return rest === "" ? Cause.done() : Effect.succeed([rest])
            }
            const out = reader.push(pieces.length === 1 ? pieces[0]! : pieces.join(""))
            pending = reader.failure()
            if (out === "") return next
            started = true
            return Effect.succeed([out] as const)
          })
        )
      })
      return next
    })
  )
