// Type-checked by the consumer test with `module: nodenext` and `skipLibCheck: false`: every entry
// point's declarations must resolve and hold together in a project that installed the tarballs.
import type { IncomingMessage, ServerResponse } from "node:http"
import { Errors, Gateway, Hooks, Permissions, VERSION } from "@lunarbit/gateway-core"
import { type ChatEvent, createClient, GatewayClientError } from "@lunarbit/gateway-core/client"
import { memoryPorts } from "@lunarbit/gateway-core/testing"
import { type EmbeddedGateway, embed, NodeGateway } from "@lunarbit/gateway-node"
import { WorkerHandler } from "@lunarbit/gateway-workers"

export const version: string = VERSION
export const admin: Permissions.Principal = Permissions.admin

export const mount = async (prefix: string): Promise<(req: IncomingMessage, res: ServerResponse) => boolean> => {
  const seen: Array<Hooks.ResponseFacts> = []
  const gateway: EmbeddedGateway = await embed({
    prefix,
    env: process.env,
    hooks: {
      onRequest: async (request: Hooks.RequestFacts) => {
        if (request.principal === undefined && request.method !== "GET") throw new Errors.Forbidden({ message: "no" })
      },
      onResponse: (response) => void seen.push(response)
    }
  })
  return gateway.handle
}

/** The same hooks for Effect programs. */
export const effectHooks = Hooks.layer(Hooks.fromPromises({ onResponse: () => undefined }))

export const layers = {
  node: NodeGateway.layer,
  web: Gateway.webHandler,
  ports: memoryPorts,
  worker: WorkerHandler.make
}

/** The Promise client's answers carry the schemas' types. */
export const latestDownload = async (baseUrl: string, apiKey: string): Promise<string | undefined> => {
  const client = createClient({ baseUrl, apiKey })
  try {
    const update = await client.updates.check("trackly", "stable", {
      current_version: "1.0.0",
      platform: "linux",
      architecture: "x64"
    })
    return update.update_available ? update.download_url : undefined
  } catch (error) {
    if (error instanceof GatewayClientError && error.code === "PROJECT_NOT_FOUND") return undefined
    throw error
  }
}

export const streamed = async (client: ReturnType<typeof createClient>): Promise<string> => {
  let text = ""
  for await (const event of client.ai.chat({ messages: [{ role: "user", content: "hi" }], stream: true })) {
    const current: ChatEvent = event
    if ("content" in current) text += current.content
  }
  return text
}
