// Type-checked by the consumer test with `module: nodenext` and `skipLibCheck: false`: every entry
// point's declarations must resolve and hold together in a project that installed the tarballs.
import type { IncomingMessage, ServerResponse } from "node:http"
import { Gateway, Permissions, VERSION } from "@lunarbit/gateway-core"
import { memoryPorts } from "@lunarbit/gateway-core/testing"
import { type EmbeddedGateway, embed, NodeGateway } from "@lunarbit/gateway-node"
import { WorkerHandler } from "@lunarbit/gateway-workers"

export const version: string = VERSION
export const admin: Permissions.Principal = Permissions.admin

export const mount = async (prefix: string): Promise<(req: IncomingMessage, res: ServerResponse) => boolean> => {
  const gateway: EmbeddedGateway = await embed({ prefix, env: process.env })
  return gateway.handle
}

export const layers = {
  node: NodeGateway.layer,
  web: Gateway.webHandler,
  ports: memoryPorts,
  worker: WorkerHandler.make
}
