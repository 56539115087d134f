import { type IncomingMessage, type RequestListener, Server, type ServerOptions, type ServerResponse } from "node:http"

/**
 * Node's HTTP server, stopping as soon as its last response is sent. `server.close()` stops accepting
 * and closes idle connections, but a kept-alive connection whose request is in flight stays open
 * after its response until `keepAliveTimeout` (5 s), and so does the process: `docker stop` and
 * systemd would wait for it. Once closing, every response ends its connection (`Connection: close`).
 */
export class StoppingServer extends Server {
  private readonly inFlight = new InFlight()
  private closing = false

  constructor(options: ServerOptions = {}, handler?: RequestListener) {
    super(options)
    // Registered first, so it runs before the gateway's handler has written anything.
    this.on("request", (_request: IncomingMessage, response: ServerResponse) => {
      if (this.closing) return this.endConnectionAfter(response)
      const slot = this.inFlight.add(response)
      response.once("close", () => this.inFlight.remove(slot))
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

/**
 * The responses in flight, in slots written in place: a slot is emptied when its response closes
 * and taken again by a later one.
 *
 * Not a `Set`: one added to and deleted from per request makes V8 build its table anew every few
 * dozen requests, and each table it discards still points at the responses it held. Once such a
 * table is old enough to sit in the old generation, each collection of the young one keeps
 * everything it points at, and the next table with it, until the next full collection: whole
 * requests, ~6 KB each, were copied and promoted (measured on the AI path: 6 MB promoted per
 * young collection, a full collection every second, 12% of the CPU; with slots, under 70 KB).
 */
class InFlight {
  private readonly slots: Array<ServerResponse | undefined> = []
  private readonly free: Array<number> = []

  add(response: ServerResponse): number {
    const slot = this.free.pop() ?? this.slots.length
    this.slots[slot] = response
    return slot
  }

  remove(slot: number) {
    this.slots[slot] = undefined
    this.free.push(slot)
  }

  *[Symbol.iterator](): Iterator<ServerResponse> {
    for (const response of this.slots) if (response !== undefined) yield response
  }
}
