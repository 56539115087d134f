import { ProviderHttp } from "@lunarbit/gateway-core"
import { Effect, Layer } from "effect"
import type { Agent, Dispatcher } from "undici"

export interface Options {
  /** Connections kept per upstream origin. */
  readonly connections?: number | undefined
  /** How long an idle upstream connection is kept open. */
  readonly keepAliveTimeoutMs?: number | undefined
}

const headerOf =
  (headers: Record<string, string | Array<string> | undefined>) =>
  (name: string): string | undefined => {
    const value = headers[name]
    return Array.isArray(value) ? value.join(", ") : value
  }

// Chunks held before the upstream is paused: a client reading slowly holds back the upstream.
const highWaterMark = 16

/**
 * A response body read straight from undici's dispatch callbacks: chunks queue until read, and the
 * upstream pauses while the queue is full. Stopping early (`return`) aborts the request.
 */
class Body implements AsyncIterableIterator<Uint8Array> {
  private readonly chunks: Array<Uint8Array> = []
  private ended = false
  private failure: Error | undefined
  private waiting: { resolve: (result: IteratorResult<Uint8Array>) => void; reject: (error: Error) => void } | undefined
  private readonly controller: Dispatcher.DispatchController
  constructor(controller: Dispatcher.DispatchController) {
    this.controller = controller
  }

  push(chunk: Uint8Array) {
    const waiting = this.waiting
    if (waiting !== undefined) {
      this.waiting = undefined
      return waiting.resolve({ value: chunk, done: false })
    }
    this.chunks.push(chunk)
    if (this.chunks.length >= highWaterMark) this.controller.pause()
  }

  end() {
    this.ended = true
    const waiting = this.waiting
    this.waiting = undefined
    waiting?.resolve({ value: undefined, done: true })
  }

  fail(error: Error) {
    this.failure = error
    const waiting = this.waiting
    this.waiting = undefined
    waiting?.reject(error)
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    const chunk = this.chunks.shift()
    if (chunk !== undefined) {
      if (this.controller.paused && this.chunks.length < highWaterMark / 2) this.controller.resume()
      return Promise.resolve({ value: chunk, done: false })
    }
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.ended) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject }
    })
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.ended && this.failure === undefined)
      this.controller.abort(new Error("The response body was not read to its end"))
    this.ended = true
    this.chunks.length = 0
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator]() {
    return this
  }
}

const abortError = (signal: AbortSignal): Error =>
  signal.reason instanceof Error ? signal.reason : new DOMException("The operation was aborted", "AbortError")

// Origins and paths of the few upstream URLs a gateway forwards to, parsed once each.
const targets = new Map<string, { readonly origin: string; readonly path: string }>()
const targetOf = (url: string) => {
  let target = targets.get(url)
  if (target === undefined) {
    const parsed = new URL(url)
    target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` }
    // URLs name deployments and models the configuration chose; the bound only guards the memory.
    if (targets.size >= 1_000) targets.clear()
    targets.set(url, target)
  }
  return target
}

/**
 * The AI providers' pass-through client on undici's connection pool: one keep-alive pool per
 * upstream origin, and the response body handed over as undici reads it, without a Node stream or
 * WHATWG stream in between.
 */
export const make = (agent: Agent): ProviderHttp.ProviderHttpShape => ({
  send: (request) =>
    new Promise((resolve, reject) => {
      const { signal } = request
      if (signal.aborted) return reject(abortError(signal))
      const { origin, path } = targetOf(request.url)
      let body: Body | undefined
      let controller: Dispatcher.DispatchController | undefined
      const onAbort = () => controller?.abort(abortError(signal))
      signal.addEventListener("abort", onAbort, { once: true })
      const settle = () => signal.removeEventListener("abort", onAbort)
      agent.dispatch(
        { origin, path, method: request.method, headers: request.headers, body: request.body ?? null },
        {
          onRequestStart: (started) => {
            controller = started
            if (signal.aborted) started.abort(abortError(signal))
          },
          onResponseStart: (started, statusCode, headers) => {
            body = new Body(started)
            resolve({ status: statusCode, header: headerOf(headers), body })
          },
          onResponseData: (_, chunk) => body?.push(chunk),
          onResponseEnd: () => {
            settle()
            body?.end()
          },
          onResponseError: (_, error) => {
            settle()
            if (body === undefined) reject(error)
            else body.fail(error)
          }
        }
      )
    })
})

/**
 * The client over a pool made on the first upstream call, undici's modules imported then: about
 * 1 MB of code a gateway without AI providers never needs in memory.
 */
const onFirstCall = (options: Options) => {
  let agent: Promise<Agent> | undefined
  let client: ProviderHttp.ProviderHttpShape | undefined
  const clientOf = async () => {
    // `default`: a CommonJS module's exports, under Node and in a bundle's chunk alike (esbuild's
    // chunk of undici has no named exports).
    agent ??= import("undici").then(
      ({ default: undici }) =>
        new undici.Agent({
          connections: options.connections ?? 256,
          keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
          // Every call is timed by its caller, which aborts it (the router's attempt, first-token
          // and idle limits; the health probe's limit). undici's own 300 s timers would only add
          // a timer per request, which undici keeps for up to a second after it is cleared.
          headersTimeout: 0,
          bodyTimeout: 0
        })
    )
    client ??= make(await agent)
    return client
  }
  const http: ProviderHttp.ProviderHttpShape = {
    send: (request) => (client === undefined ? clientOf().then((made) => made.send(request)) : client.send(request))
  }
  return { http, close: () => agent?.then((made) => made.close()) }
}

/** The client as the core's `ProviderHttp`; the pool is closed with the layer. */
export const layer = (options: Options = {}): Layer.Layer<never> =>
  Layer.effect(
    ProviderHttp.ProviderHttp,
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() => onFirstCall(options)),
        (pool) => Effect.promise(async () => pool.close())
      ),
      (pool) => pool.http
    )
  ) as Layer.Layer<never>
