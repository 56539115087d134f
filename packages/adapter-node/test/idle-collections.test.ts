import { assert, describe, it } from "vitest"
import { waitFor, withGatewayProcess } from "./support/process.ts"

// V8's trace marks a collection run to reduce memory "(reduce)": the start-up compaction is one
// (`gc()`, "testing"), and by default so is the memory reducer's, which comes once the process has
// been quiet for some seconds and would drop the bytecode and optimised code of the request path.
const collectionsAfterStart = (output: string) => {
  const collections = output.split("\n").filter((line) => line.includes("Mark-Compact"))
  const started = collections.findLastIndex((line) => line.includes("testing"))
  return started === -1 ? [] : collections.slice(started + 1).map((line) => line.slice(line.indexOf("Mark-Compact")))
}

describe("the collection when the gateway turns idle", () => {
  it("keeps the compiled code of a gateway started as `lunarbit-gateway`", { timeout: 90_000 }, () =>
    withGatewayProcess(["--trace-gc"], async (gateway) => {
      // Some traffic, then quiet: the memory reducer collects a few seconds later.
      for (let i = 0; i < 300; i++) assert.strictEqual((await fetch(gateway.url("/health"))).status, 200)
      await waitFor(() => collectionsAfterStart(gateway.output()).length > 0, 60_000)
      for (const collection of collectionsAfterStart(gateway.output())) {
        assert.notInclude(collection, "(reduce)", collection)
      }
    })
  )
})
