import { describe, expect, it } from "vitest"
import { ProviderFailure } from "../../src/ai/domain/AiFailures.ts"
import * as AiWireStream from "../../src/ai/domain/AiWireStream.ts"

/** The stream reader every forwarding path shares, fed whole batches as a fast upstream sends them. */
const event = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`
const delta = (content: string, usage: unknown = null) =>
  event({
    id: "c",
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
    usage
  })
const finish = event({
  id: "c",
  object: "chat.completion.chunk",
  choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
  usage: null
})
const usage = (total: number) =>
  event({
    id: "c",
    object: "chat.completion.chunk",
    choices: [],
    usage: { prompt_tokens: 1, completion_tokens: total - 1, total_tokens: total }
  })
const done = "data: [DONE]\n\n"

const scan = (stripUsage: boolean, ...texts: ReadonlyArray<string>) => {
  const meter = AiWireStream.meter()
  const reader = AiWireStream.scanner({
    provider: "p",
    classify: (error) => new ProviderFailure({ provider: "p", kind: "server", message: JSON.stringify(error) }),
    meter,
    stripUsage
  })
  let out = ""
  for (const text of texts) out += reader.push(text)
  const end = reader.end()
  return { out: out + end.rest, failure: end.failure ?? reader.failure(), usage: meter.usage }
}

describe("the OpenAI stream scanner", () => {
  const whole = delta("Hel") + delta("lo") + finish + usage(3) + done

  it("passes a whole stream in one batch byte for byte when the client asked for usage, and reads the usage", () => {
    const { out, failure, usage: counted } = scan(false, whole)
    expect(out).toBe(whole)
    expect(failure).toBeUndefined()
    expect(counted?.totalTokens).toBe(3)
  })

  it("removes only the usage chunk the client did not ask for, wherever it stands in the batch", () => {
    expect(scan(true, whole).out).toBe(
      delta("Hel").replace(',"usage":null', "") +
        delta("lo").replace(',"usage":null', "") +
        finish.replace(',"usage":null', "") +
        done
    )
    const first = usage(2) + delta("x") + finish + done
    const scanned = scan(true, first)
    expect(scanned.out).toBe((delta("x") + finish).replaceAll(',"usage":null', "") + done)
    expect(scanned.usage?.totalTokens).toBe(2)
  })

  it("reads every usage when a host reports it on several chunks, keeping the last", () => {
    const scanned = scan(
      false,
      delta("a", { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }) + finish + usage(5) + done
    )
    expect(scanned.usage?.totalTokens).toBe(5)
    expect(scanned.failure).toBeUndefined()
  })

  it("reads events split across batches at any byte", () => {
    for (const cut of [1, 17, whole.length - 3]) {
      const { out, usage: counted } = scan(false, whole.slice(0, cut), whole.slice(cut))
      expect(out).toBe(whole)
      expect(counted?.totalTokens).toBe(3)
    }
  })

  it("stops at an error event and fails with it, after the events before it", () => {
    const error = event({ error: { message: "overloaded", type: "server_error" } })
    const { out, failure } = scan(false, delta("a") + error + delta("b") + finish + done)
    expect(out).toBe(delta("a"))
    expect(failure?.message).toContain("overloaded")
  })

  it("fails a stream that ends without finishing", () => {
    const { failure } = scan(false, delta("a") + delta("b"))
    expect(failure?.kind).toBe("incomplete")
  })

  it("takes a finish reason or [DONE] alone as the finish, and ignores look-alikes inside the text", () => {
    expect(scan(false, delta("a") + finish).failure).toBeUndefined()
    expect(scan(false, delta("a") + done).failure).toBeUndefined()
    // Inside a JSON string a quote is escaped, and `event:` mid-line names no event.
    const lookalikes = delta('say "error" and "finish_reason": "stop", event: error, data: [DONE]')
    expect(scan(false, lookalikes).failure?.kind).toBe("incomplete")
    const { out, failure } = scan(false, lookalikes + finish + done)
    expect(out).toBe(lookalikes + finish + done)
    expect(failure).toBeUndefined()
  })

  it("fails on an error event named by its `event:` line", () => {
    const named = `event: error\ndata: ${JSON.stringify({ message: "rate limited" })}\n\n`
    const { out, failure } = scan(false, delta("a") + named + finish + done)
    expect(out).toBe(delta("a"))
    expect(failure).toBeDefined()
  })
})
