import { type IncomingMessage, type RequestListener, Server, type ServerOptions, type ServerResponse } from "node:http"

/**
 * Node's HTTP server, stopping as soon as its last response is sent. `server.close()` stops accepting
 * and closes idle connections, but a kept-alive connection whose request is in flight stays open
 * after its response until `keepAliveTimeout` (5 s), and so does the process: `docker stop` and
 * systemd would wait for it. Once closing, every response ends its connection (`Connection: close`).
 */
export class StoppingServer extends Server {
  private readonly inFlight = new Set<ServerResponse>()
  private closing = false

  constructor(options: ServerOptions = {}, handler?: RequestListener) {
    super(options)
    // Registered first, so it runs before the gateway's handler has written anything.
    this.on("request", (_request: IncomingMessage, response: ServerResponse) => {
      if (this.closing) return this.endConnectionAfter(response)
      this.inFlight.add(response)
      response.once("close", () => this.inFlight.delete(response))
    })
    if (handler !== undefined) this.on("request", handler)
  }

  override close(callback?: (error?: Error) => void): this {
    this.closing = true
    for (const response of this.inFlight) this.endConnectionAfter(response)
    return super.close(callback)
  }

  private endConnectionAfter(response: ServerResponse) {
    if (!response.headersSent) response.shouldKeepAlive = false
    else response.once("finish", () => setImmediate(() => this.closeIdleConnections()))
  }
}
