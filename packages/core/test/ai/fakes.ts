import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/**
 * Real HTTP upstreams on 127.0.0.1 that speak OpenAI's and Anthropic's wire formats, JSON and SSE,
 * scripted per request. Each records what it received and whether the caller hung up early.
 */
export interface Received {
  readonly method: string
  readonly path: string
  readonly headers: IncomingMessage["headers"]
  readonly body: any
  /** Set when the connection closed before the response finished (the caller cancelled). */
  aborted: boolean
}

export type Reply = (request: Received, response: ServerResponse) => void | Promise<void>

export interface Upstream {
  readonly url: string
  readonly received: Array<Received>
  /** Replies to the next requests of `path`, in order; the last one repeats. */
  on(path: string, ...replies: ReadonlyArray<Reply>): void
  close(): Promise<void>
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export const startUpstream = async (): Promise<Upstream> => {
  const routes = new Map<string, Array<Reply>>()
  const received: Array<Received> = []
  const server = createServer(async (req, res) => {
    const chunks: Array<Buffer> = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString("utf8")
    const path = (req.url ?? "/").split("?")[0]!
    const record: Received = {
      method: req.method ?? "GET",
      path: req.url ?? "/",
      headers: req.headers,
      body: text === "" ? undefined : JSON.parse(text),
      aborted: false
    }
    received.push(record)
    res.on("close", () => {
      if (!res.writableEnded) record.aborted = true
    })
    const replies = routes.get(path)
    const reply = replies === undefined ? undefined : replies.length > 1 ? replies.shift() : replies[0]
    if (reply === undefined) {
      res.writeHead(404, { "content-type": "application/json" })
      res.end(JSON.stringify({ error: { message: `No route ${path}`, type: "invalid_request_error" } }))
      return
    }
    try {
      await reply(record, res)
    } catch {
      res.destroy()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    on: (path, ...replies) => {
      routes.set(path, [...replies])
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** A JSON answer. */
export const json =
  (body: unknown, status = 200, headers: Record<string, string> = {}): Reply =>
  (_request, response) => {
    response.writeHead(status, { "content-type": "application/json", ...headers })
    response.end(JSON.stringify(body))
  }

/** One SSE event: `data` (a string is sent as is), an optional name, and a pause before it. */
export interface SseEvent {
  readonly data: unknown
  readonly event?: string | undefined
  readonly delayMs?: number | undefined
}

/**
 * An SSE answer. `end: "drop"` destroys the socket after the events (a connection lost mid-stream);
 * `"hang"` keeps it open without sending more; `"close"` ends the body normally.
 */
export const sse =
  (events: ReadonlyArray<SseEvent>, options: { readonly end?: "close" | "drop" | "hang" } = {}): Reply =>
  async (request, response) => {
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
    response.flushHeaders()
    for (const event of events) {
      if (event.delayMs !== undefined) await sleep(event.delayMs)
      if (request.aborted) return
      const data = typeof event.data === "string" ? event.data : JSON.stringify(event.data)
      const text = `${event.event === undefined ? "" : `event: ${event.event}\n`}data: ${data}\n\n`
      await new Promise((resolve) => response.write(text, resolve))
    }
    const end = options.end ?? "close"
    if (end === "drop") {
      // Let the events reach the caller first: a reset can discard data still in flight.
      await sleep(50)
      response.destroy()
    } else if (end === "close") response.end()
  }

// ---- OpenAI wire ----

const created = 1_700_000_000

export const openAiModels = (...ids: ReadonlyArray<string>) =>
  json({ object: "list", data: ids.map((id) => ({ id, object: "model", created, owned_by: "system" })) })

export const openAiCompletion = (
  text: string,
  options: { readonly model?: string; readonly usage?: boolean; readonly finish?: string } = {}
) =>
  json({
    id: "chatcmpl-upstream",
    object: "chat.completion",
    created,
    model: options.model ?? "gpt-test",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: text, refusal: null },
        logprobs: null,
        finish_reason: options.finish ?? "stop"
      }
    ],
    ...(options.usage === false ? {} : { usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 } })
  })

const chunk = (model: string, choices: ReadonlyArray<unknown>, usage: unknown = null) => ({
  id: "chatcmpl-upstream",
  object: "chat.completion.chunk",
  created,
  model,
  system_fingerprint: "fp_test",
  choices,
  usage
})

/**
 * A streamed completion as OpenAI sends it: a role chunk, one chunk per piece, a finish chunk, the
 * usage chunk when `usage` is set (as `stream_options.include_usage` asks), then `[DONE]`.
 */
export const openAiStream = (
  pieces: ReadonlyArray<string>,
  options: {
    readonly model?: string
    readonly usage?: boolean
    readonly delayMs?: number
    readonly firstDelayMs?: number
  } = {}
): Array<SseEvent> => {
  const model = options.model ?? "gpt-test"
  return [
    {
      data: chunk(model, [
        { index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }
      ]),
      delayMs: options.firstDelayMs
    },
    ...pieces.map((piece) => ({
      data: chunk(model, [{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]),
      delayMs: options.delayMs
    })),
    { data: chunk(model, [{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }]) },
    ...(options.usage === false
      ? []
      : [
          {
            data: chunk(model, [], {
              prompt_tokens: 11,
              completion_tokens: pieces.length,
              total_tokens: 11 + pieces.length
            })
          }
        ]),
    { data: "[DONE]" }
  ]
}

/** The first `count` events of a stream: a stream cut off before it finished. */
export const firstEvents = (events: ReadonlyArray<SseEvent>, count: number) => events.slice(0, count)

export const openAiError = (status: number, message: string, type: string, headers: Record<string, string> = {}) =>
  json({ error: { message, type, param: null, code: null } }, status, headers)

// ---- Anthropic wire ----

export const anthropicModels = (...ids: ReadonlyArray<string>) =>
  json({
    data: ids.map((id) => ({ type: "model", id, display_name: id, created_at: "2025-01-01T00:00:00Z" })),
    has_more: false,
    first_id: ids[0] ?? null,
    last_id: ids.at(-1) ?? null
  })

export const anthropicMessage = (text: string, model = "claude-test") =>
  json({
    id: "msg_upstream",
    type: "message",
    role: "assistant",
    model,
    content: [{ type: "text", text }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 21, output_tokens: 9, cache_creation_input_tokens: 0, cache_read_input_tokens: 4 }
  })

/** A Messages API stream: message_start, a text block with one delta per piece and pings, message_delta, message_stop. */
export const anthropicStream = (
  pieces: ReadonlyArray<string>,
  options: { readonly model?: string; readonly delayMs?: number } = {}
): Array<SseEvent> => [
  {
    event: "message_start",
    data: {
      type: "message_start",
      message: {
        id: "msg_upstream",
        type: "message",
        role: "assistant",
        content: [],
        model: options.model ?? "claude-test",
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 25, output_tokens: 1 }
      }
    }
  },
  {
    event: "content_block_start",
    data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }
  },
  { event: "ping", data: { type: "ping" } },
  ...pieces.map((piece) => ({
    event: "content_block_delta",
    data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: piece } },
    delayMs: options.delayMs
  })),
  { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
  {
    event: "message_delta",
    data: {
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: 15 }
    }
  },
  { event: "message_stop", data: { type: "message_stop" } }
]

export const anthropicErrorEvent = (type: string, message: string): SseEvent => ({
  event: "error",
  data: { type: "error", error: { type, message } }
})

export const anthropicError = (status: number, type: string, message: string, headers: Record<string, string> = {}) =>
  json({ type: "error", error: { type, message } }, status, headers)
