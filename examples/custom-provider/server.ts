/**
 * LunarBit Gateway with a custom AI provider (Ollama's native API) registered next to the providers
 * from the configuration, served by the Node adapter.
 *
 *   OLLAMA_URL=http://localhost:11434 API_KEY_ADMIN=change-me \
 *     node --conditions=@lunarbit/source examples/custom-provider/server.ts
 *   curl localhost:8080/ai/status
 *   curl -X POST localhost:8080/ai/chat -H "Authorization: Bearer change-me" \
 *     -H "Content-Type: application/json" -d '{"messages":[{"role":"user","content":"Hi"}],"stream":true}'
 */
import { NodeGateway } from "@lunarbit/gateway-node"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { HttpServer } from "effect/http"
import * as OllamaProvider from "./OllamaProvider.ts"

export const start = async (options: {
  readonly port: number
  readonly ollamaUrl: string
  readonly env?: Record<string, string | undefined>
}) => {
  const scope = Scope.makeUnsafe()
  const context = await Effect.runPromise(
    Layer.buildWithScope(
      NodeGateway.layer({
        env: { ...(options.env ?? process.env), PORT: String(options.port), HOST: "127.0.0.1" },
        // Registered providers are routed with those from the configuration, by the same strategy.
        aiProviders: [OllamaProvider.make({ baseUrl: options.ollamaUrl })]
      }),
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
  const { port } = await start({
    port: Number(process.env.PORT ?? 8080),
    ollamaUrl: process.env.OLLAMA_URL ?? "http://localhost:11434"
  })
  console.log(`LunarBit Gateway with Ollama on http://127.0.0.1:${port}`)
}
