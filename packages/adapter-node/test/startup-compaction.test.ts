import { getHeapSpaceStatistics } from "node:v8"
import { runInNewContext } from "node:vm"
import { assert, describe, it } from "vitest"
import { compactHeap } from "../src/StartupCompaction.ts"
import { waitFor, withGatewayProcess } from "./support/process.ts"

const youngGeneration = () => getHeapSpaceStatistics().find((space) => space.space_name === "new_space")!.space_size

// Objects that live across young collections, as the modules and layers of a start do: V8 grows
// its young generation while they keep surviving.
const startLikeAllocation = () => {
  const kept: Array<Array<number>> = []
  for (let i = 0; i < 200_000; i++) kept.push([i, i + 1, i + 2])
  return kept.length
}

describe("the collection once the gateway serves", () => {
  it("returns the young generation start-up grew", () => {
    startLikeAllocation()
    const grown = youngGeneration()
    compactHeap()
    assert.isBelow(youngGeneration(), grown)
  })

  it("leaves no `gc` behind for other code to find", () => {
    compactHeap()
    assert.strictEqual(runInNewContext("typeof gc"), "undefined")
    assert.strictEqual(typeof (globalThis as { gc?: unknown }).gc, "undefined")
  })

  // The RSS at start the README and the bench report depends on `main.ts` running it: without it
  // an idle gateway keeps ~10 MiB more. V8's trace names a collection `gc()` asked for "testing".
  it("runs once a gateway started as `lunarbit-gateway` serves", { timeout: 60_000 }, () =>
    withGatewayProcess(["--trace-gc"], async (gateway) => {
      await waitFor(() => /Mark-Compact \(reduce\).*testing/.test(gateway.output()), 10_000)
      assert.strictEqual((await fetch(gateway.url("/health"))).status, 200)
    })
  )
})
