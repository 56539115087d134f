/**
 * LunarBit Gateway with a custom AI provider (Ollama's native API) registered next to the providers
 * from the configuration, served by Node's HTTP server.
 *
 *   OLLAMA_URL=http://localhost:11434 API_KEY_ADMIN=change-me node examples/custom-provider/server.ts
 *   curl localhost:8080/ai/status
 *   curl -X POST localhost:8080/ai/chat -H "Authorization: Bearer change-me" \
 *     -H "Content-Type: application/json" -d '{"messages":[{"role":"user","content":"Hi"}],"stream":true}'
 */
import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { Gateway, ModelRouter } from "@lunarbit/gateway-core"
import { memoryPorts } from "@lunarbit/gateway-core/testing"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import catalog from "../catalog.json" with { type: "json" }
import * as OllamaProvider from "./OllamaProvider.ts"

export const start = async (options: {
  readonly port: number
  readonly ollamaUrl: string
  readonly env?: Record<string, string>
}) => {
  // Registered providers are routed with those from the configuration, by the same strategy.
  const ollama = ModelRouter.registerProviders(OllamaProvider.make({ baseUrl: options.ollamaUrl }))
  const ports = Layer.merge(memoryPorts({ catalog, env: options.env ?? {} }), ollama)
  const scope = Scope.makeUnsafe()
  const context = await Effect.runPromise(
    Layer.buildWithScope(
      HttpRouter.serve(Gateway.layer).pipe(
        Layer.provide(ports),
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: options.port, host: "127.0.0.1" }))
      ),
      scope
    )
  )
  const address = Context.get(context, HttpServer.HttpServer).address
  return {
    port: address._tag === "UnixPathAddress" ? 0 : address.port,
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

if (import.meta.main) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined)
  )
  const { port } = await start({
    port: Number(process.env.PORT ?? 8080),
    ollamaUrl: process.env.OLLAMA_URL ?? "http://localhost:11434",
    env
  })
  console.log(`LunarBit Gateway with Ollama on http://127.0.0.1:${port}`)
}
