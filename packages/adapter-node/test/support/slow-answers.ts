import { StoppingServer } from "../../src/NodeStoppingServer.ts"

/**
 * A stopping server whose answers come a few milliseconds after their requests, as an upstream's
 * do: run by `stopping-server.test.ts` in a process of its own, with the collector's trace on.
 */
const server = new StoppingServer({}, (request, response) => {
  request.resume()
  request.once("end", () =>
    setTimeout(() => {
      response.writeHead(200, { "content-type": "text/plain" })
      response.end("answered")
    }, 2)
  )
})
server.listen(0, "127.0.0.1", () => {
  // A full collection once serving, as the gateway's start runs one (`StartupCompaction`): from
  // then on, what the server made at start lives in the old generation.
  ;(globalThis as { gc?: () => void }).gc?.()
  const address = server.address()
  console.log(`Listening on http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`)
})
process.once("SIGTERM", () => server.close())
