import { assert, describe, it } from "vitest"
import { withGatewayProcess } from "./support/process.ts"

// With `--trace-pretenuring-statistics`, V8 prints a "pretenuring:" line for each allocation site
// it judges at a young collection, and whenever one moves to being allocated in the old generation.
// The start-up compaction (`gc()`, "testing" in the trace) comes just before the gateway serves.
const pretenuringAfterStart = (output: string) => {
  const lines = output.split("\n")
  const started = lines.findLastIndex((line) => line.includes("Mark-Compact") && line.includes("testing"))
  return started === -1 ? [] : lines.slice(started + 1).filter((line) => line.includes("pretenuring:"))
}

describe("the gateway's request objects", () => {
  it("are never allocated in the old generation at birth once `lunarbit-gateway` serves", { timeout: 90_000 }, () =>
    withGatewayProcess(["--trace-gc", "--trace-pretenuring-statistics"], async (gateway) => {
      // Requests in flight together across young collections: the survivals V8 judges sites by.
      for (let round = 0; round < 40; round++) {
        const answers = await Promise.all(Array.from({ length: 50 }, () => fetch(gateway.url("/health"))))
        for (const answer of answers) assert.strictEqual(answer.status, 200)
      }
      assert.deepStrictEqual(pretenuringAfterStart(gateway.output()), [])
    })
  )
})
