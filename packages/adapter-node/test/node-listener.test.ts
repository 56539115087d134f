import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Gateway } from "@lunarbit/gateway-core"
import { Effect, Exit, Logger, Scope } from "effect"
import { HttpServerResponse } from "effect/http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as NodeListener from "../src/NodeListener.ts"

/**
 * The Node listener over lanes whose fast lanes throw (a fault in them, swapped in as a layer
 * would be): each request still gets the complete lane's answer, and the fault is logged, instead
 * of a request left hanging.
 */
const logged: Array<string> = []
const scope = Scope.makeUnsafe()
let server: Server
let base: string

beforeAll(async () => {
  const lanes = Gateway.Lanes.of({
    direct: () => {
      throw new Error("direct lane fault with Bearer lbapi_secret_0123456789abcdef")
    },
    ai: () => {
      throw new Error("AI lane fault")
    },
    complete: Effect.succeed(HttpServerResponse.text("answered by the complete lane"))
  })
  const listener = await Effect.runPromise(
    NodeListener.make(scope).pipe(
      Effect.provideService(Gateway.Lanes, lanes),
      Effect.provide(Logger.layer([Logger.make(({ message }) => void logged.push(JSON.stringify(message)))]))
    )
  )
  server = createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  await Effect.runPromise(Scope.close(scope, Exit.void))
})

describe("the Node listener", () => {
  it("answers through the complete lane when the direct lane throws, and logs the fault redacted", async () => {
    const response = await fetch(`${base}/health`, { signal: AbortSignal.timeout(3000) })
    expect(await response.text()).toBe("answered by the complete lane")
    expect(logged.join("\n")).toContain("direct lane fault")
    expect(logged.join("\n")).not.toContain("lbapi_secret_0123456789abcdef")
  })

  it("answers through the complete lane when the AI lane throws", async () => {
    const response = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
      signal: AbortSignal.timeout(3000)
    })
    expect(await response.text()).toBe("answered by the complete lane")
    expect(logged.join("\n")).toContain("AI lane fault")
  })
})
