import type { IncomingMessage, ServerResponse } from "node:http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { type DirectLane, Gateway } from "@lunarbit/gateway-core"
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
    return (request, response) => {
      const served = lanes.direct({
        method: request.method ?? "GET",
        url: request.url ?? "/",
        headers: request.headers,
        remoteAddress: request.socket.remoteAddress
      })
      if (served === undefined) return complete(request, response)
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
