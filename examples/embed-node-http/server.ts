/**
 * LunarBit Gateway mounted under `/updates` in an existing `node:http` server: the gateway answers
 * its paths, the host application everything else.
 *
 *   node --conditions=@lunarbit/source examples/embed-node-http/server.ts
 *   curl localhost:8080/updates/health
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { embed } from "@lunarbit/gateway-node"

export const start = async (options: { readonly port: number; readonly env?: Record<string, string | undefined> }) => {
  const gateway = await embed({ prefix: "/updates", env: options.env ?? process.env })
  const server: Server = createServer((request, response) => {
    if (gateway.handle(request, response)) return
    response.writeHead(200, { "content-type": "text/plain" })
    response.end("Hello from the host application\n")
  })
  await new Promise<void>((resolve) => server.listen(options.port, "127.0.0.1", resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())))
      await gateway.close()
    }
  }
}

if (import.meta.main) {
  const { port } = await start({ port: Number(process.env.PORT ?? 8080) })
  console.log(`Host application on http://127.0.0.1:${port}, gateway under /updates`)
}
