import { ProviderFailure } from "../domain/AiFailures.ts"
import * as AiTimeLimits from "../domain/AiTimeLimits.ts"
import * as AiWireStream from "../domain/AiWireStream.ts"
import * as AiWireTranslation from "../domain/AiWireTranslation.ts"
import * as OpenAiWire from "../domain/OpenAiWire.ts"
import type { Forwarding } from "../ports/AIProvider.ts"
import * as OpenAiPassThrough from "../providers/OpenAiPassThrough.ts"
import * as AiFailover from "./AiFailover.ts"
import type { AiObservation } from "./AiObservation.ts"
import * as Routing from "./AiRouting.ts"
import type { RouteError, Settings } from "./ModelRouter.ts"

/**
 * `/v1/chat/completions` forwarded by the router without an effect per request: the same failover
 * plan (`AiFailover.plan`), breaker and latency bookkeeping (`AiRouting`), stream reading
 * (`AiWireStream.scanner`) and metrics (`AiObservation.recorder`) as the router's effectful path,
 * driven by promises and timers. It serves only when every provider forwards bodies as they are to
 * an OpenAI-compatible host, so no request needs a translation or an SDK.
 */

/** A whole answer as the provider wrote it. */
export interface ForwardedAnswer {
  readonly json: string
  readonly usage: OpenAiWire.Usage
}

/** A stream that produced its first events; read the rest with `next`, or `cancel` it. */
export interface ForwardedStream {
  /** The events up to the first token. */
  readonly head: string
  /**
   * The next events; `undefined` at the end. Rejects with a `ProviderFailure` when the stream
   * failed: its events before the failure were answered first.
   */
  readonly next: () => Promise<string | undefined>
  /** The client went away: the upstream request is cancelled. */
  readonly cancel: () => void
  /** The tokens counted so far (a stream cut short still has its cost known). */
  readonly meter: AiWireStream.Meter
}

export interface Forwarder {
  /** Whether requests can be forwarded now: every provider's models are known (its first probe answered). */
  readonly ready: () => boolean
  /** Rejects with the `RouteError` of a request no provider answered. */
  readonly complete: (body: OpenAiWire.Body, text: string, signal: AbortSignal) => Promise<ForwardedAnswer>
  /** Fails over until a stream produced its first events; rejects like `complete`. */
  readonly stream: (body: OpenAiWire.Body, text: string, signal: AbortSignal) => Promise<ForwardedStream>
}

/** What the forwarder needs from its router. */
export interface RouterParts {
  readonly states: ReadonlyArray<Routing.ProviderState>
  readonly settings: Settings
  readonly failover: AiFailover.Context
  readonly observation: AiObservation
  /** The candidates for a requested model, or why there are none. */
  readonly candidatesOf: (requested: string | undefined) => ReadonlyArray<Routing.ProviderState> | RouteError
  /** Counts routed requests, for round-robin. */
  readonly nextTurn: () => number
  /** Refreshes stale health in the background. */
  readonly refreshIfStale: () => void
}

/** An attempt that ended because the client went away: nothing to fail over from. */
class Abandoned extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The forwarder over the router's providers; `undefined` when one of them cannot forward bodies as they are. */
export const make = (parts: RouterParts): Forwarder | undefined => {
  const { states, settings, observation } = parts
  if (states.length === 0 || !states.every((state) => state.provider.forwarding !== undefined)) return undefined
  const forwardingOf = (state: Routing.ProviderState) => state.provider.forwarding as Forwarding
  const headers = new Map(
    states.map((state) => [state, { "content-type": "application/json", ...forwardingOf(state).target.headers }])
  )

  // One upstream call's cancellation: the client leaving, or `limitMs` passing (then `timedOut` says
  // so). Timers are plain `setTimeout`s (a Worker's are numbers, without `refresh`).
  const abortable = (signal: AbortSignal, limitMs: number, onTimeout: () => ProviderFailure) => {
    const controller = new AbortController()
    let timedOut: ProviderFailure | undefined
    const onAbort = () => controller.abort()
    signal.addEventListener("abort", onAbort, { once: true })
    const fire = (failure: () => ProviderFailure) => {
      timedOut = failure()
      controller.abort()
    }
    let timer = setTimeout(() => {
      timer = AiTimeLimits.afterPendingReads(() => fire(onTimeout))
    }, limitMs)
    // Once a stream started: the idle limit, counted from its last chunk.
    let idleMs = 0
    let lastActivity = 0
    return {
      signal: controller.signal,
      timedOut: () => timedOut,
      /** From now on, fail after `ms` without a chunk (a stream's idle limit once it started). */
      idle: (ms: number, failure: () => ProviderFailure) => {
        clearTimeout(timer)
        idleMs = ms
        lastActivity = Date.now()
        // `readFirst`: the verdict of a quiet stream waits for the reads pending (see `AiTimeLimits`).
        const check = (readFirst: boolean) => {
          const quiet = Date.now() - lastActivity
          if (quiet < idleMs) timer = setTimeout(() => check(true), idleMs - quiet)
          else if (readFirst) timer = AiTimeLimits.afterPendingReads(() => check(false))
          else fire(failure)
        }
        timer = setTimeout(() => check(true), ms)
      },
      /** A chunk arrived; before `idle`, the first-token limit still counts from the start. */
      active: () => {
        lastActivity = Date.now()
      },
      abort: () => controller.abort(),
      done: () => {
        clearTimeout(timer)
        signal.removeEventListener("abort", onAbort)
      }
    }
  }

  // What an attempt's failure was: the client leaving, a time limit, or the provider's own.
  const failureOf = (
    error: unknown,
    signal: AbortSignal,
    call: { readonly timedOut: () => ProviderFailure | undefined },
    forwarding: Forwarding
  ) => {
    if (signal.aborted) return new Abandoned()
    return call.timedOut() ?? (error instanceof ProviderFailure ? error : forwarding.fail(error))
  }

  const settle = (state: Routing.ProviderState, failure: ProviderFailure | Abandoned | undefined) => {
    Routing.end(state)
    if (failure === undefined) Routing.succeeded(state)
    else if (failure instanceof Abandoned) Routing.abandoned(state)
    else Routing.failed(state, failure, Date.now(), settings.breaker)
  }

  // The chat completion `sent` to `state` for `model`: the client's own text when nothing changed.
  // An error answer fails with the provider's classification of it.
  const send = async (
    state: Routing.ProviderState,
    model: string,
    client: { readonly body: OpenAiWire.Body; readonly text: string },
    sent: OpenAiWire.Body,
    signal: AbortSignal
  ) => {
    const forwarding = forwardingOf(state)
    const response = await forwarding.target.http.send({
      url: forwarding.target.url("chat/completions", model),
      method: "POST",
      headers: headers.get(state)!,
      body:
        sent === client.body && model === sent.model ? client.text : JSON.stringify(OpenAiWire.withModel(sent, model)),
      signal
    })
    if (response.status >= 300) throw forwarding.fail(await OpenAiPassThrough.failed(response))
    return response
  }

  const route = async <A extends object>(
    body: OpenAiWire.Body,
    streaming: boolean,
    signal: AbortSignal,
    attempt: (state: Routing.ProviderState, model: string, deadline: number) => Promise<A>
  ): Promise<A> => {
    const candidates = parts.candidatesOf(body.model)
    if (!Array.isArray(candidates)) throw candidates
    parts.refreshIfStale()
    const ordered = Routing.order(settings.strategy, candidates, parts.nextTurn(), streaming)
    const steps = AiFailover.plan(parts.failover, ordered, body, Date.now())
    const recorder = observation.recorder(streaming)
    while (true) {
      const step = steps.next(Date.now())
      if (step._tag === "Exhausted") throw step.error
      if (step._tag === "Pause") {
        await sleep(step.ms)
        if (signal.aborted) throw new Abandoned()
        continue
      }
      const end = recorder.begin(step.state.provider.name, step.model)
      try {
        const value = await attempt(step.state, step.model, steps.deadline)
        end({ _tag: "Answered", usage: (value as { readonly usage?: OpenAiWire.Usage }).usage })
        return value
      } catch (error) {
        const failure = error instanceof ProviderFailure ? error : undefined
        end({ _tag: "Failed", failure })
        if (failure === undefined) throw error
        const final = steps.failed(step.state, step.model, failure)
        if (final !== undefined) throw final
      }
    }
  }

  const complete = (body: OpenAiWire.Body, text: string, signal: AbortSignal) =>
    route(body, false, signal, async (state, model, deadline) => {
      const forwarding = forwardingOf(state)
      const limitMs = Math.min(settings.attemptTimeoutMs, Math.max(0, deadline - Date.now()))
      const call = abortable(signal, limitMs, () => forwarding.timedOut("The completion", limitMs))
      const started = Date.now()
      Routing.begin(state)
      let failure: ProviderFailure | Abandoned | undefined
      try {
        const response = await send(state, model, { body, text }, body, call.signal)
        const json = await OpenAiPassThrough.readText(response.body)
        Routing.recordLatency(state, Date.now() - started)
        return { json, usage: OpenAiPassThrough.usageIn(json) ?? AiWireTranslation.countCompletion(body, json) }
      } catch (error) {
        failure = failureOf(error, signal, call, forwarding)
        throw failure
      } finally {
        call.done()
        settle(state, failure)
      }
    })

  const stream = (body: OpenAiWire.Body, text: string, signal: AbortSignal) => {
    const meter = AiWireStream.meter()
    return route(body, true, signal, async (state, model, deadline) => {
      const forwarding = forwardingOf(state)
      // A failed attempt's partial count is not the client's: each attempt starts from zero.
      meter.usage = undefined
      meter.forwarded.length = 0
      const firstTokenMs = Math.min(settings.firstTokenTimeoutMs, Math.max(0, deadline - Date.now()))
      const idleMs = settings.idleTimeoutMs
      const call = abortable(
        signal,
        firstTokenMs,
        () =>
          new ProviderFailure({
            provider: state.provider.name,
            kind: "timeout",
            message: `No first token within ${firstTokenMs} ms`
          })
      )
      const scanner = AiWireStream.scanner({
        provider: state.provider.name,
        classify: forwarding.fail,
        meter,
        stripUsage: !OpenAiWire.wantsUsage(body)
      })
      const asked = forwarding.streamUsage ? OpenAiWire.askingUsage(body) : body
      const sent = asked === body && body.stream === true ? body : { ...asked, stream: true }
      const started = Date.now()
      Routing.begin(state)
      let settled = false
      const finish = (failure: ProviderFailure | Abandoned | undefined) => {
        if (settled) return
        settled = true
        call.done()
        if (failure !== undefined) call.abort()
        settle(state, failure)
      }
      let iterator: AsyncIterator<Uint8Array> | undefined
      const decoder = new TextDecoder()
      let ended = false
      let pending: ProviderFailure | undefined
      // The next whole events to forward; `undefined` at the end.
      const pull = async (): Promise<string | undefined> => {
        while (true) {
          if (pending !== undefined) {
            ended = true
            const failed = pending
            pending = undefined
            throw failed
          }
          if (ended) return undefined
          let chunk: IteratorResult<Uint8Array>
          try {
            chunk = await iterator!.next()
          } catch (error) {
            ended = true
            throw failureOf(error, signal, call, forwarding)
          }
          if (chunk.done) {
            ended = true
            const tail = decoder.decode()
            const last = tail === "" ? "" : scanner.push(tail)
            const { rest, failure } = scanner.end()
            const out = last + rest
            if (failure !== undefined && out === "") throw failure
            pending = failure
            return out === "" ? undefined : out
          }
          call.active()
          const out = scanner.push(decoder.decode(chunk.value, { stream: true }))
          pending = scanner.failure()
          if (out !== "") return out
        }
      }
      let head: string | undefined
      try {
        const response = await send(state, model, { body, text }, sent, call.signal)
        iterator = response.body[Symbol.asyncIterator]()
        head = await pull()
        if (head === undefined) {
          throw new ProviderFailure({
            provider: state.provider.name,
            kind: "incomplete",
            message: "The stream was empty"
          })
        }
      } catch (error) {
        const failure = error instanceof Abandoned ? error : failureOf(error, signal, call, forwarding)
        finish(failure)
        throw failure
      }
      Routing.recordFirstToken(state, Date.now() - started)
      call.idle(
        idleMs,
        () =>
          new ProviderFailure({
            provider: state.provider.name,
            kind: "timeout",
            message: `The stream paused for more than ${idleMs} ms`
          })
      )
      const provider = state.provider.name
      const next = async () => {
        try {
          const events = await pull()
          if (events === undefined) {
            finish(undefined)
            observation.tokens(provider, model, meter.usage)
          }
          return events
        } catch (error) {
          const failure = error instanceof ProviderFailure ? error : failureOf(error, signal, call, forwarding)
          finish(failure)
          observation.tokens(provider, model, meter.usage)
          throw failure
        }
      }
      const cancel = () => {
        if (settled) return
        finish(new Abandoned())
        observation.tokens(provider, model, meter.usage)
      }
      const opened: ForwardedStream = { head, next, cancel, meter }
      return opened
    })
  }

  return {
    ready: () => states.every((state) => state.probedAt !== undefined),
    complete,
    stream
  }
}
