/**
 * LunarBit Gateway mounted under `/updates` in an existing `node:http` server: the gateway answers
 * its paths, the host application everything else. Two hooks show where the host steps in: one
 * refuses catalog writes during a maintenance window, the other records each answer for metrics.
 *
 *   node --conditions=@lunarbit/source examples/embed-node-http/server.ts
 *   curl localhost:8080/updates/health
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Errors, type Hooks } from "@lunarbit/gateway-core"
import { embed } from "@lunarbit/gateway-node"

export interface StartOptions {
  readonly port: number
  readonly env?: Record<string, string | undefined>
  /** While true, requests that would change something (anything but GET and HEAD) are refused. */
  readonly maintenance?: () => boolean
  /** Told of every answer; the principal is the key's name, never the key. */
  readonly record?: (response: Hooks.ResponseFacts) => void
}

export const start = async (options: StartOptions) => {
  const gateway = await embed({
    prefix: "/updates",
    env: options.env ?? process.env,
    hooks: {
      // Runs after the key was checked and before the endpoint; a gateway error refuses the request.
      onRequest: async (request) => {
        if (request.method !== "GET" && request.method !== "HEAD" && options.maintenance?.()) {
          throw new Errors.Forbidden({
            message: "The update service is in maintenance; writes are refused",
            details: { route: request.route }
          })
        }
      },
      onResponse: (response) => options.record?.(response)
    }
  })
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
