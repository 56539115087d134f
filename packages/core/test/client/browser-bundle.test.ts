import { build } from "esbuild"
import { describe, expect, it } from "vitest"
import { retryAfterSeconds } from "../../src/client/Transport.ts"

describe("the client outside Node", () => {
  it("bundles for browsers and Workers, without any node:* module", async () => {
    const result = await build({
      entryPoints: [new URL("../../src/client/index.ts", import.meta.url).pathname],
      bundle: true,
      format: "esm",
      platform: "browser",
      conditions: ["@lunarbit/source", "browser"],
      write: false,
      logLevel: "silent"
    })
    expect(result.errors).toEqual([])
    const code = result.outputFiles[0]!.text
    expect(code).toContain("createClient")
    expect(code).not.toMatch(/from\s*["']node:|require\(["']node:/)
  }, 60_000)
})

describe("Retry-After", () => {
  const now = Date.parse("2026-03-01T12:00:00Z")

  it("reads both of its forms: seconds, and an HTTP date", () => {
    expect(retryAfterSeconds("7", now)).toBe(7)
    expect(retryAfterSeconds("Sun, 01 Mar 2026 12:00:30 GMT", now)).toBe(30)
    expect(retryAfterSeconds("Sun, 01 Mar 2026 11:59:00 GMT", now)).toBe(0)
  })

  it("ignores what it cannot read", () => {
    expect(retryAfterSeconds(undefined, now)).toBeUndefined()
    expect(retryAfterSeconds("", now)).toBeUndefined()
    expect(retryAfterSeconds("soon", now)).toBeUndefined()
  })
})
