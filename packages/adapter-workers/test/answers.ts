import { expect } from "vitest"

/** One request, sent alike to the Worker and to the Node adapter. */
export interface Exchange {
  readonly name: string
  readonly method?: string
  readonly path: string
  readonly key?: string | undefined
  readonly headers?: Record<string, string>
  readonly body?: string
  /** The status both must answer, so two equally wrong answers cannot pass. */
  readonly status: number
  /** What the body must contain, for the same reason. */
  readonly includes?: object
}

/** The `RequestInit` of an exchange; redirects stay unfollowed so the 302 itself is compared. */
export const init = (exchange: Exchange) => ({
  method: exchange.method ?? "GET",
  headers: {
    ...(exchange.key === undefined ? {} : { authorization: `Bearer ${exchange.key}` }),
    ...exchange.headers
  },
  ...(exchange.body === undefined ? {} : { body: exchange.body }),
  redirect: "manual" as const
})

// How the body travels, not what it says: workerd streams and Miniflare re-encodes; Node's server
// adds its connection management and date.
const transportHeaders = new Set([
  "content-length",
  "transfer-encoding",
  "content-encoding",
  "mf-content-encoding",
  "connection",
  "keep-alive",
  "date"
])

/** What is compared of a response: status, headers, body; the per-request id is checked, then masked. */
export interface Answer {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: unknown
}

interface ResponseLike {
  readonly status: number
  readonly headers: { forEach(callback: (value: string, name: string) => void): void }
  text(): Promise<string>
}

const requestIdPattern = /^req_[a-z0-9]{20}$/

/**
 * Reads a response into an `Answer`: checks the `x-request-id` header and, in an error envelope, that
 * the body names the same id; masks the id and the health `timestamp`, the only parts that legitimately
 * differ between two answers to the same request. `requestId` is returned for the access-log check.
 */
export const read = async (response: ResponseLike): Promise<Answer & { readonly requestId: string }> => {
  const headers: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    if (!transportHeaders.has(name)) headers[name] = value
  })
  const requestId = headers["x-request-id"] ?? ""
  expect(requestId).toMatch(requestIdPattern)
  headers["x-request-id"] = "<request id>"

  const text = await response.text()
  let body: unknown = text
  if (headers["content-type"]?.startsWith("application/json")) {
    const json = JSON.parse(text) as Record<string, any>
    if (json.error !== undefined) {
      expect(json.error.request_id).toBe(requestId)
      json.error.request_id = "<request id>"
    }
    if (typeof json.timestamp === "string") {
      expect(new Date(json.timestamp).toISOString()).toBe(json.timestamp)
      json.timestamp = "<timestamp>"
      // Each runtime's catalog source is named after where it lives (a file, a binding), and only a
      // source that loads over time (a watched file) reports when it last did: compare their states.
      json.sources = (json.sources ?? []).map((source: { status: string }) => ({ status: source.status }))
    }
    body = json
  }
  return { status: response.status, headers, body, requestId }
}

// The parts of headers read from each gateway's own clock (seconds to or epoch of a rate-limit
// reset): equal to within a couple of seconds, not exactly.
const clockParts: Record<string, RegExp> = {
  "x-ratelimit-reset": /^\d+$/g,
  "retry-after": /^\d+$/g,
  ratelimit: /(?<=\bt=)\d+/g
}

const maskClockParts = (answer: Answer): Answer => {
  const headers = { ...answer.headers }
  for (const [name, part] of Object.entries(clockParts)) {
    if (headers[name] !== undefined) headers[name] = headers[name].replace(part, "<seconds>")
  }
  return { status: answer.status, headers, body: answer.body }
}

/** Asserts that two answers are the same, allowing the clock parts of headers a two-second skew. */
export const expectSameAnswer = (actual: Answer, expected: Answer): void => {
  for (const [name, part] of Object.entries(clockParts)) {
    const mine = actual.headers[name]?.match(part) ?? []
    const theirs = expected.headers[name]?.match(part) ?? []
    expect(mine.length, name).toBe(theirs.length)
    mine.forEach((seconds, i) => {
      expect(Math.abs(Number(seconds) - Number(theirs[i])), name).toBeLessThanOrEqual(2)
    })
  }
  expect(maskClockParts(actual)).toEqual(maskClockParts(expected))
}
