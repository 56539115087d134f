import { connect, type Socket } from "node:net"
import { alone, type Row } from "./support.ts"

/**
 * Latency at a fixed rate, measured open-loop: request i is sent at `start + i / rate` whatever
 * happened to the ones before, over keep-alive connections, and its latency counts from when it
 * was due until its answer's last byte (so a server that falls behind is charged for the wait, as
 * wrk2 does). The first second runs at the same rate unmeasured, so the connections are open and
 * both sides' code is warm before the first counted request.
 *
 * Why not autocannon's `overallRate`: each of its connections sends back to back until it has made
 * its share of the second, then waits for the next second, so a "half rate" run is half a second at
 * saturation and half a second idle, and its latencies are those of the burst's queue. It also
 * records every latency with a 1 ms expected interval, adding a synthetic sample per millisecond of
 * each slow answer. The queue is what a fixed-rate run exists to leave out.
 *
 * Why raw sockets, with the request's bytes built once and each answer read only for where it
 * ends: the sender shares its core with nothing it measures, but it has to keep time. Measured
 * against raw `node:http` in one run here, undici's `Pool` cost the sender 61–98 µs of CPU per
 * request (the kernel's loopback work included) and fell behind at 12,000–16,000 req/s, with the
 * server at 80–84 % of its core: its p99 was the sender's queue (350–1,313 ms). These sockets cost
 * 43–58 µs and kept 16,000 req/s until the server itself was at 94–99 %.
 */
export const paced = async (
  name: string,
  options: {
    url: string
    rate: number
    seconds: number
    method?: "GET" | "POST"
    headers?: Record<string, string>
    body?: string
  }
): Promise<Row> => {
  alone(options.url)
  const target = new URL(options.url)
  const request = requestBytes(target, options.method ?? "GET", options.headers ?? {}, options.body)
  const warmUp = Math.round(options.rate)
  const total = warmUp + Math.round(options.rate * options.seconds)
  const interval = 1000 / options.rate
  const latencies: Array<number> = []
  let non2xx = 0
  let errors = 0
  let answered = 0
  const idle: Array<Connection> = []
  const waiting: Array<{ readonly due: number; readonly counted: boolean }> = []
  const all = new Set<Connection>()
  let finished: () => void = () => {}

  const settle = (connection: Connection, due: number, counted: boolean, status: number | undefined) => {
    if (counted) {
      if (status === undefined) errors++
      else if (status < 200 || status >= 300) non2xx++
      else latencies.push(performance.now() - due)
    }
    answered++
    if (connection.open) {
      const next = waiting.shift()
      if (next === undefined) idle.push(connection)
      else connection.send(request, next.due, next.counted)
    }
    if (answered === total) finished()
  }
  const send = (due: number, counted: boolean) => {
    const connection = idle.pop()
    if (connection !== undefined) return connection.send(request, due, counted)
    if (all.size >= maxConnections) return void waiting.push({ due, counted })
    const opened = new Connection(target, settle, (lost) => {
      all.delete(lost)
      const at = idle.indexOf(lost)
      if (at !== -1) idle.splice(at, 1)
      // A request that was waiting for a connection gets one of its own.
      const next = waiting.shift()
      if (next !== undefined) send(next.due, next.counted)
    })
    all.add(opened)
    opened.send(request, due, counted)
  }

  const start = performance.now()
  const done = new Promise<void>((resolve) => {
    finished = resolve
  })
  await new Promise<void>((sentAll) => {
    let sent = 0
    const tick = () => {
      const now = performance.now()
      while (sent < total && start + sent * interval <= now) {
        send(start + sent * interval, sent >= warmUp)
        sent++
      }
      if (sent === total) return sentAll()
      setTimeout(tick, Math.max(0, start + sent * interval - performance.now()))
    }
    tick()
  })
  await done
  const elapsed = (performance.now() - start) / 1000 - 1
  for (const connection of all) connection.destroy()
  latencies.sort((a, b) => a - b)
  const at = (quantile: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * quantile))] ?? 0
  const tenth = (ms: number) => Math.round(ms * 10) / 10
  return {
    name,
    requestsPerSecond: latencies.length / elapsed,
    p50: tenth(at(0.5)),
    p99: tenth(at(0.99)),
    non2xx,
    errors
  }
}

// Connections opened at most: a server that falls far behind has this many requests in flight,
// and the rest wait in the sender's queue, charged from when they were due.
const maxConnections = 256

const requestBytes = (target: URL, method: string, headers: Record<string, string>, body: string | undefined) => {
  const payload = body === undefined ? undefined : Buffer.from(body)
  let head = `${method} ${target.pathname}${target.search} HTTP/1.1\r\nhost: ${target.host}\r\n`
  for (const [header, value] of Object.entries(headers)) head += `${header}: ${value}\r\n`
  if (payload !== undefined) head += `content-length: ${payload.length}\r\n`
  const bytes = Buffer.from(`${head}\r\n`)
  return payload === undefined ? bytes : Buffer.concat([bytes, payload])
}

/** An answer read whole (`status`), or lost (`undefined`). */
type Settle = (connection: Connection, due: number, counted: boolean, status: number | undefined) => void

const crlf = Buffer.from("\r\n")
const headEnd = Buffer.from("\r\n\r\n")

/**
 * One keep-alive connection with one request in flight at a time, reading of each answer only
 * what says where it ends: the status, `content-length` or chunked framing, `connection: close`.
 */
class Connection {
  open = true
  private readonly socket: Socket
  private pending: Buffer = Buffer.alloc(0)
  private inFlight: { readonly due: number; readonly counted: boolean } | undefined
  // The answer being read: its status once the head is in; then the body bytes still to come
  // (`remaining`), or chunked framing (`chunked`).
  private status: number | undefined
  private remaining = 0
  private chunked = false
  private closes = false

  private readonly settle: Settle
  private readonly lost: (connection: Connection) => void

  constructor(target: URL, settle: Settle, lost: (connection: Connection) => void) {
    this.settle = settle
    this.lost = lost
    this.socket = connect({ host: target.hostname, port: Number(target.port), noDelay: true })
    this.socket.on("data", (data: Buffer) => this.read(data))
    this.socket.on("error", () => this.fail())
    this.socket.on("close", () => this.fail())
  }

  send(request: Buffer, due: number, counted: boolean) {
    this.inFlight = { due, counted }
    this.socket.write(request)
  }

  /** The run is over: no callback runs after this. */
  destroy() {
    this.open = false
    this.socket.destroy()
  }

  // The server closed the connection, or it failed: it leaves the pool, and an answer it still
  // owed is an error.
  private fail() {
    if (!this.open) return
    this.retire()
    const inFlight = this.inFlight
    this.inFlight = undefined
    if (inFlight !== undefined) this.settle(this, inFlight.due, inFlight.counted, undefined)
  }

  private retire() {
    this.open = false
    this.socket.destroy()
    this.lost(this)
  }

  private read(data: Buffer) {
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data])
    while (this.inFlight !== undefined && this.advance()) {
      const { due, counted } = this.inFlight
      const status = this.status
      this.inFlight = undefined
      this.status = undefined
      if (this.closes) this.retire()
      this.settle(this, due, counted, status)
    }
  }

  /** Skips the body bytes still to come that `pending` holds; `true` once none are left. */
  private skipRemaining(): boolean {
    const taken = Math.min(this.remaining, this.pending.length)
    this.remaining -= taken
    this.pending = this.pending.subarray(taken)
    return this.remaining === 0
  }

  /** Reads what `pending` holds of the answer; `true` once the answer is whole. */
  private advance(): boolean {
    while (true) {
      if (this.status === undefined) {
        const end = this.pending.indexOf(headEnd)
        if (end === -1) return false
        const head = this.pending.toString("latin1", 0, end).toLowerCase()
        this.status = Number(head.slice(9, 12))
        this.chunked = /\r\ntransfer-encoding:[^\r]*chunked/.test(head)
        this.remaining = this.chunked ? 0 : Number(/\r\ncontent-length:\s*(\d+)/.exec(head)?.[1] ?? 0)
        this.closes = /\r\nconnection:\s*close/.test(head)
        this.pending = this.pending.subarray(end + 4)
        if (!this.chunked) continue
      }
      if (!this.chunked) return this.skipRemaining()
      // Chunked: the data of the chunk being read, then its CRLF, then the next size line.
      if (!this.skipRemaining()) return false
      const line = this.pending.indexOf(crlf)
      if (line === -1) return false
      if (line === 0) {
        // The CRLF after a chunk's data.
        this.pending = this.pending.subarray(2)
        continue
      }
      const size = Number.parseInt(this.pending.toString("latin1", 0, line), 16)
      if (size > 0) {
        this.remaining = size
        this.pending = this.pending.subarray(line + 2)
        continue
      }
      // The last chunk: a CRLF right after its line, or trailers and an empty line.
      const rest = this.pending.subarray(line + 2)
      let end = 2
      if (rest.indexOf(crlf) !== 0) {
        const blank = rest.indexOf(headEnd)
        if (blank === -1) return false
        end = blank + 4
      }
      this.pending = rest.subarray(end)
      return true
    }
  }
}
