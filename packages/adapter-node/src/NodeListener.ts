import type { IncomingMessage, ServerResponse } from "node:http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { AiLane, type DirectLane, Gateway, Redaction } from "@lunarbit/gateway-core"
import { type Context, Effect, type Scope } from "effect"

/**
 * The gateway's `node:http` request listener: the direct lane answers from the request's head and
 * is written with one `writeHead` and one `end`; every other request goes to the complete lane,
 * served by the platform's handler with a fiber of its own in `scope`.
 */
export const make = (
  scope: Scope.Scope
): Effect.Effect<(request: IncomingMessage, response: ServerResponse) => void, never, Gateway.Lanes> =>
  Effect.gen(function* () {
    const lanes = yield* Gateway.Lanes
    const context = yield* Effect.context<never>()
    const complete = yield* NodeHttpServer.makeHandler(lanes.complete, { scope })
    const runFork = Effect.runForkWith(context as Context.Context<never>)
    const ai = lanes.ai
    // A fast lane that throws before answering (a fault, never an answer) leaves the request to
    // the complete lane, which answers every request by the same rules; the fault is logged.
    const settle = <A>(lane: () => A): A | undefined => {
      try {
        return lane()
      } catch (fault) {
        runFork(
          Effect.logError(
            "A fast lane failed; the complete lane answers the request",
            Redaction.redactString(String(fault))
          )
        )
        return undefined
      }
    }
    return (request, response) => {
      const head = {
        method: request.method ?? "GET",
        url: request.url ?? "/",
        headers: request.headers,
        remoteAddress: request.socket.remoteAddress
      }
      const served = settle(() => lanes.direct(head))
      if (served === undefined) {
        if (ai === undefined || head.method !== "POST") return complete(request, response)
        const controller = new AbortController()
        const forwarded = settle(() => ai(head, bodyOf(request), controller.signal))
        if (forwarded === undefined) return complete(request, response)
        return answerAi(response, forwarded, controller)
      }
      if (!Effect.isEffect(served)) return write(response, served)
      const fiber = runFork(served)
      fiber.addObserver((exit) => {
        if (exit._tag === "Success") write(response, exit.value)
        else if (!response.headersSent) response.destroy()
      })
      response.on("close", () => {
        if (!response.writableEnded) fiber.interruptUnsafe()
      })
    }
  })

/** The request body's text, read as it arrives; `undefined` once it passes `maxBytes` (the rest is discarded). */
const bodyOf =
  (request: IncomingMessage): AiLane.BodyReader =>
  (maxBytes) =>
    new Promise((resolve, reject) => {
      const chunks: Array<Buffer> = []
      let size = 0
      const onData = (chunk: Buffer) => {
        size += chunk.length
        if (size <= maxBytes) return void chunks.push(chunk)
        request.off("data", onData)
        request.resume()
        resolve(undefined)
      }
      request.on("data", onData)
      request.once("end", () => resolve(chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString()))
      request.once("error", reject)
    })

/** Writes the AI lane's answer: whole, or its events as they come; a client that leaves cancels the upstream. */
const answerAi = (response: ServerResponse, forwarded: Promise<AiLane.LaneAnswer>, controller: AbortController) => {
  let answer: AiLane.LaneAnswer | undefined
  response.once("close", () => {
    if (response.writableEnded) return
    controller.abort()
    if (answer !== undefined && AiLane.isStreamed(answer)) answer.cancel()
  })
  forwarded.then(
    (settled) => {
      answer = settled
      if (!AiLane.isStreamed(settled)) return write(response, settled)
      if (response.destroyed) return settled.cancel()
      // The head, the first events and, when the upstream has already finished, the end leave in
      // one write: each write on a socket costs a system call and a packet. The socket holds them,
      // not the response: `end()` on a corked response sends the last chunk before the events the
      // response held back, and the client sees the stream end after its head.
      const socket = response.socket
      if (socket !== null) {
        socket.cork()
        setImmediate(() => socket.uncork())
      }
      response.writeHead(settled.status, { ...settled.headers, "content-type": settled.contentType })
      return pump(response, settled)
    },
    () => response.destroy()
  )
}

const drained = (response: ServerResponse) =>
  new Promise<void>((resolve) => {
    const done = () => {
      response.off("drain", done)
      response.off("close", done)
      resolve()
    }
    response.once("drain", done)
    response.once("close", done)
  })

const pump = async (response: ServerResponse, answer: AiLane.StreamedAnswer) => {
  let events: string | undefined = answer.head
  while (events !== undefined) {
    if (!response.write(events)) await drained(response)
    if (response.destroyed) return
    events = await answer.next()
  }
  response.end()
}

const write = (response: ServerResponse, answer: DirectLane.Answer) => {
  const headers = answer.headers
  if (answer.contentType !== undefined) headers["content-type"] = answer.contentType
  if (answer.body !== undefined) headers["content-length"] = String(Buffer.byteLength(answer.body))
  try {
    response.writeHead(answer.status, headers)
  } catch {
    // A header Node refuses to send (a forwarded value with control characters, say): the client
    // gets a bare 500 rather than a response that breaks the connection's framing.
    response.writeHead(500, { "content-length": "0" })
    response.end()
    return
  }
  response.end(answer.body)
}
