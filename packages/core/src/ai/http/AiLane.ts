import { Effect, Exit, Schema } from "effect"
import * as Permissions from "../../access/domain/Permissions.ts"
import type * as RateLimiter from "../../access/services/RateLimiter.ts"
import * as Errors from "../../errors/Errors.ts"
import { type GatewayErrorShape, isGatewayError } from "../../errors/GatewayError.ts"
import * as CorsPolicy from "../../http/Cors.ts"
import type { Answer, RequestHead } from "../../http/DirectLane.ts"
import * as EdgeAnswers from "../../http/EdgeAnswers.ts"
import * as ErrorEnvelope from "../../http/ErrorEnvelope.ts"
import * as Exchange from "../../http/Exchange.ts"
import { ProviderFailure } from "../domain/AiFailures.ts"
import * as AiWireStream from "../domain/AiWireStream.ts"
import type * as OpenAiWire from "../domain/OpenAiWire.ts"
import type { Forwarder } from "../services/AiForwarding.ts"
import * as AiStreaming from "./AiStreaming.ts"
import { ChatCompletionRequest } from "./OpenAiCompatApi.ts"

/**
 * The AI lane of the edge: `POST /v1/chat/completions` forwarded to OpenAI-compatible hosts with no
 * effect per request (`AiForwarding`), answered from the request's head and its body text. A
 * request takes it only when, from its head alone, it is settled in memory as the direct lane's
 * requests are (a cached key holding `canUseAI`, a JSON body within the size limit) and every
 * provider forwards bodies as they are; everything else is the complete lane's, which answers the
 * same requests with the same rules (`test/ai/lanes.test.ts` holds the two to it).
 */

/** A streamed answer: its head and first events now, the rest as they come. */
export interface StreamedAnswer {
  readonly status: number
  readonly headers: Record<string, string>
  readonly contentType: string
  readonly head: string
  /**
   * The next events; `undefined` at the end. Never rejects: a failure after the start is the
   * stream's last event (an `error` payload).
   */
  readonly next: () => Promise<string | undefined>
  /** The client went away: the upstream request is cancelled and what it cost is counted. */
  readonly cancel: () => void
}

export type LaneAnswer = Answer | StreamedAnswer

export const isStreamed = (answer: LaneAnswer): answer is StreamedAnswer => "next" in answer

/** The body's text; `undefined` when it is longer than `maxBytes`. */
export type BodyReader = (maxBytes: number) => Promise<string | undefined>

/** The lane's entry: `undefined` when the request is not this lane's (nothing has been read). */
export type AiLane = (head: RequestHead, body: BodyReader, signal: AbortSignal) => Promise<LaneAnswer> | undefined

export interface LaneOptions extends Exchange.LaneEdge {
  readonly forwarder: Forwarder
  /** Adds tokens to a key's usage. */
  readonly recordTokens: (keyName: string, tokens: number) => void
  readonly maxBodyBytes: number
}

const route = "/v1/chat/completions"
const decode = Schema.decodeUnknownExit(ChatCompletionRequest)

interface InFlight extends Exchange.Answered {
  verdict: RateLimiter.Verdict | undefined
}

/** The lane over `options.forwarder`. */
export const make = (options: LaneOptions): AiLane => {
  const finish = (flight: InFlight, status: number, headers: Record<string, string>) => {
    Exchange.account(flight, status, options.usage, options.accessLog)
    options.observe?.({
      route,
      method: "POST",
      status,
      durationMs: performance.now() - flight.started,
      refusedBucket: Exchange.refusedBucket(flight.verdict),
      authentication: undefined
    })
    return headers
  }

  const envelope = (flight: InFlight, error: GatewayErrorShape): Answer => {
    const retryAfter = error.details?.retry_after
    const edge = Exchange.edgeHeaders(flight, undefined, undefined, false)
    const headers = typeof retryAfter === "number" ? { "retry-after": String(retryAfter), ...edge } : edge
    return {
      status: error.status,
      headers: finish(flight, error.status, headers),
      contentType: "application/json",
      body: JSON.stringify(ErrorEnvelope.body(error, { requestId: flight.requestId, docsUrl: options.docsUrl }))
    }
  }

  const recordTokens = (principal: Permissions.Principal, tokens: number) =>
    options.recordTokens(principal.name, tokens)

  const streamed = (
    flight: InFlight,
    principal: Permissions.Principal,
    body: OpenAiWire.Body,
    opened: Awaited<ReturnType<Forwarder["stream"]>>
  ): StreamedAnswer => {
    let counted = false
    const count = () => {
      if (counted) return
      counted = true
      recordTokens(principal, AiWireStream.tokens(opened.meter, body).totalTokens)
    }
    const headers = { ...AiStreaming.sseHeaders, ...Exchange.edgeHeaders(flight, undefined, undefined, false) }
    return {
      status: 200,
      headers: finish(flight, 200, headers),
      contentType: "text/event-stream",
      head: opened.head,
      next: async () => {
        try {
          const events = await opened.next()
          if (events === undefined) count()
          return events
        } catch (error) {
          count()
          if (!(error instanceof ProviderFailure)) return undefined
          const scope = { requestId: flight.requestId, docsUrl: options.docsUrl }
          return AiStreaming.openAiErrorFrame(AiStreaming.interrupted(error), scope)
        }
      },
      cancel: () => {
        opened.cancel()
        count()
      }
    }
  }

  const forward = async (flight: InFlight, principal: Permissions.Principal, read: BodyReader, signal: AbortSignal) => {
    let text: string | undefined
    try {
      text = await read(options.maxBodyBytes)
    } catch {
      return envelope(flight, new Errors.InvalidRequest({ message: "The request body could not be read" }))
    }
    if (text === undefined) return envelope(flight, EdgeAnswers.tooLarge(options.maxBodyBytes))
    let json: unknown
    try {
      json = text === "" ? null : JSON.parse(text)
    } catch {
      return envelope(
        flight,
        new Errors.InvalidRequest({
          message: "Invalid body: Expected a valid JSON body",
          details: { issues: [{ field: "body", message: "Expected a valid JSON body" }] }
        })
      )
    }
    const decoded = decode(json)
    if (Exit.isFailure(decoded)) {
      const failure = decoded.cause.reasons[0]
      const issue = failure?._tag === "Fail" ? failure.error.issue : undefined
      return envelope(
        flight,
        issue === undefined
          ? new Errors.InvalidRequest({ message: "The request is invalid" })
          : ErrorEnvelope.fromIssue("Payload", issue)
      )
    }
    const body = decoded.value as OpenAiWire.Body
    try {
      if (body.stream === true)
        return streamed(flight, principal, body, await options.forwarder.stream(body, text, signal))
      const answer = await options.forwarder.complete(body, text, signal)
      recordTokens(principal, answer.usage.totalTokens)
      const headers = Exchange.edgeHeaders(flight, undefined, undefined, false)
      return { status: 200, headers: finish(flight, 200, headers), contentType: "application/json", body: answer.json }
    } catch (error) {
      if (isGatewayError(error)) return envelope(flight, error)
      // The client went away before an answer: nothing is written, the log still says what happened.
      return envelope(flight, new Errors.AiStreamInterrupted({ message: "The client closed the request" }))
    }
  }

  const limited = (
    flight: InFlight,
    principal: Permissions.Principal,
    verdict: RateLimiter.Verdict | undefined,
    read: BodyReader,
    signal: AbortSignal
  ): Promise<LaneAnswer> => {
    flight.verdict = verdict
    return verdict !== undefined && !verdict.allowed
      ? Promise.resolve(envelope(flight, EdgeAnswers.rateLimited(verdict)))
      : forward(flight, principal, read, signal)
  }

  return (head, read, signal) => {
    const headers = head.headers
    if (head.method !== "POST" || Exchange.single(headers["content-type"])?.toLowerCase() !== "application/json")
      return undefined
    const url = Exchange.stripVersionPrefix(head.url) ?? head.url
    if (url !== route || !options.forwarder.ready()) return undefined
    const length = Exchange.single(headers["content-length"])
    if (length !== undefined && Number(length) > options.maxBodyBytes) return undefined
    const credential = Exchange.bearer(Exchange.single(headers.authorization))
    if (credential === undefined) return undefined
    const outcome = options.authenticate(credential)
    if (!Exit.isExit(outcome) || Exit.isFailure(outcome)) return undefined
    const principal = outcome.value as Permissions.Principal
    if (!Permissions.has(principal, "canUseAI")) return undefined

    // Settled: from here the request has effects (its rate limits, its upstream call), and is answered here.
    const flight: InFlight = {
      started: performance.now(),
      method: "POST",
      url: head.url,
      requestId: Exchange.requestIdOf(Exchange.single(headers["x-request-id"])),
      principal,
      origin: CorsPolicy.allowedOrigin(options.cors, Exchange.single(headers.origin)),
      verdict: undefined
    }
    const verdict = Exchange.checkLimits(options, url, principal, head)
    if (!Effect.isEffect(verdict)) return limited(flight, principal, verdict, read, signal)
    return Effect.runPromiseExit(verdict).then((exit) =>
      limited(flight, principal, Exit.isSuccess(exit) ? exit.value : undefined, read, signal)
    )
  }
}
