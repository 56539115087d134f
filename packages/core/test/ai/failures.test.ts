import { describe, expect, it } from "vitest"
import * as AiFailures from "../../src/ai/domain/AiFailures.ts"

const coded = (code: string, message = `connect ${code} 127.0.0.1:443`) => Object.assign(new Error(message), { code })

describe("classifying what an upstream call threw", () => {
  it.each([
    ["ECONNREFUSED", "connection"],
    ["ECONNRESET", "connection"],
    ["ENOTFOUND", "connection"],
    ["UND_ERR_SOCKET", "connection"],
    ["ETIMEDOUT", "timeout"],
    ["UND_ERR_HEADERS_TIMEOUT", "timeout"],
    ["EACCES", "server"]
  ])("reads a socket error's code %s as %s, whichever client threw it", (code, kind) => {
    expect(AiFailures.classify(coded(code)).kind).toBe(kind)
  })

  it("still reads the SDKs' and fetch's own errors by their names and statuses", () => {
    class APIConnectionTimeoutError extends Error {}
    class APIConnectionError extends Error {}
    expect(AiFailures.classify(new APIConnectionTimeoutError("slow")).kind).toBe("timeout")
    expect(AiFailures.classify(new APIConnectionError("gone")).kind).toBe("connection")
    expect(AiFailures.classify(new TypeError("fetch failed")).kind).toBe("connection")
    expect(AiFailures.classify(Object.assign(new Error("busy"), { status: 429, headers: {} })).kind).toBe(
      "rate_limited"
    )
    expect(AiFailures.classify(new Error("something else")).kind).toBe("server")
  })
})
