import { once } from "node:events"
import { createServer } from "node:net"
import { describe, expect, it } from "vitest"
import { startGateway } from "../support/gateway.ts"

const freePort = async () => {
  const server = createServer().listen(0, "127.0.0.1")
  await once(server, "listening")
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, "close")
  return port
}

type Outcome = "refused" | "hung" | number

/** Probes `url` every 10 ms until `done()`, as an orchestrator's health check would, and tallies the outcomes. */
const probe = async (url: string, done: () => boolean): Promise<Array<Outcome>> => {
  const outcomes: Array<Outcome> = []
  const inFlight: Array<Promise<void>> = []
  while (!done()) {
    inFlight.push(
      fetch(url, { signal: AbortSignal.timeout(3_000) }).then(
        async (response) => {
          await response.arrayBuffer()
          outcomes.push(response.status)
        },
        (error: Error) => void outcomes.push(error.name === "TimeoutError" ? "hung" : "refused")
      )
    )
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  await Promise.all(inFlight)
  return outcomes
}

describe("starting the server", () => {
  it("never accepts a connection it does not answer: 10 starts probed every 10 ms", async () => {
    const all: Array<Outcome> = []
    for (let start = 0; start < 10; start++) {
      const port = await freePort()
      let up = false
      const probing = probe(`http://127.0.0.1:${port}/health`, () => up)
      const gateway = await startGateway({ PORT: String(port) })
      // Keep probing a little after the start, then stop.
      await new Promise((resolve) => setTimeout(resolve, 50))
      up = true
      const outcomes = await probing
      await gateway.close()
      expect(outcomes).toContain(200)
      all.push(...outcomes)
    }
    expect(all.filter((outcome) => outcome === "hung")).toEqual([])
    expect(all.filter((outcome) => typeof outcome === "number" && outcome !== 200)).toEqual([])
  }, 120_000)
})
