import { once } from "node:events"
import { connect, type Socket } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningGateway, startGateway } from "../support/gateway.ts"

const open = async (gateway: RunningGateway) => {
  const url = new URL(gateway.url("/"))
  const socket = connect(Number(url.port), url.hostname)
  await once(socket, "connect")
  let received = ""
  socket.on("data", (chunk) => (received += chunk))
  const closed = once(socket, "close").then(() => Date.now())
  return { socket, closed, received: () => received }
}

const request = "GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n"

describe("slow and idle clients", () => {
  let gateway: RunningGateway
  beforeAll(async () => {
    gateway = await startGateway({
      HEADERS_TIMEOUT: "1",
      REQUEST_TIMEOUT: "1",
      KEEP_ALIVE_TIMEOUT: "1",
      MAX_CONNECTIONS: "3"
    })
  })
  afterAll(() => gateway.close())

  it("answers a request whose headers never finish with 408 in the envelope, then closes", async () => {
    const client = await open(gateway)
    const started = Date.now()
    client.socket.write("GET /health HTTP/1.1\r\nHost: gateway\r\nX-Slow: ")
    const closedAt = await client.closed
    expect(closedAt - started).toBeLessThan(4_000)
    const [head, body] = client.received().split("\r\n\r\n")
    expect(head).toMatch(/^HTTP\/1\.1 408 Request Timeout/)
    expect(head).toMatch(/x-request-id: req_/)
    expect(JSON.parse(body!).error.code).toBe("REQUEST_TIMEOUT")
  })

  it("closes an idle keep-alive connection after KEEP_ALIVE_TIMEOUT", async () => {
    const client = await open(gateway)
    client.socket.write(request)
    const answeredAt = Date.now()
    const closedAt = await client.closed
    expect(client.received()).toMatch(/^HTTP\/1\.1 200 OK/)
    expect(closedAt - answeredAt).toBeLessThan(4_000)
  })

  it("refuses connections beyond MAX_CONNECTIONS", async () => {
    const held: Array<Socket> = []
    try {
      for (let i = 0; i < 3; i++) held.push((await open(gateway)).socket)
      const extra = await open(gateway)
      extra.socket.write(request)
      await extra.closed
      expect(extra.received()).toBe("")
    } finally {
      for (const socket of held) socket.destroy()
    }
  })
})
