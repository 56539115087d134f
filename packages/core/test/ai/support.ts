import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Exit, Layer, References, Scope } from "effect"
import { HttpServer } from "effect/http"
import OpenAI from "openai"
import { afterAll, beforeAll, beforeEach } from "vitest"
import exampleCatalog from "../../../../examples/catalog.json" with { type: "json" }
import * as ApiKeyFormat from "../../src/access/domain/ApiKeyFormat.ts"
import * as KeyHash from "../../src/access/domain/KeyHash.ts"
import type { Permission } from "../../src/access/domain/Permissions.ts"
import type { StoredKey } from "../../src/access/ports/KeyStore.ts"
import * as Gateway from "../../src/Gateway.ts"
import { memoryPorts } from "../../src/testing/index.ts"
import { startUpstream, type Upstream } from "./fakes.ts"

export const adminKey = "test-admin-key-0123456789abcdef0123"

/** A gateway key with `canUseAI`, and one without it. */
export const aiKey = ApiKeyFormat.generate()
export const readerKey = ApiKeyFormat.generate()

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

const storedKey = async (name: string, key: string, permissions: ReadonlyArray<Permission>): Promise<StoredKey> => ({
  name,
  description: name,
  hash: await KeyHash.hash(await KeyHash.importSecret(adminKey), key),
  last4: key.slice(-4),
  permissions,
  tags: [],
  createdAt: "2026-01-01T00:00:00Z"
})

export interface ServedGateway {
  readonly url: (path: string) => string
  readonly close: () => Promise<void>
}

/**
 * The whole gateway served by Node's HTTP server on a free loopback port, over in-memory ports,
 * configured by `env` (the AI providers point at the fakes) plus `extra` layers (custom providers).
 */
export const serveGateway = async (
  env: Record<string, string>,
  extra: Layer.Layer<never> = Layer.empty
): Promise<ServedGateway> => {
  const keys = [
    await storedKey("ai-app", aiKey, ["canUseAI"]),
    await storedKey("reader", readerKey, ["canReadProjects"])
  ]
  const ports = Layer.merge(
    memoryPorts({ catalog: exampleCatalog, env: { API_KEY_ADMIN: adminKey, ...env }, keys }),
    extra
  )
  const scope = Scope.makeUnsafe()
  const context = await Effect.runPromise(
    Layer.buildWithScope(
      Gateway.layer.pipe(
        Layer.provide(ports),
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
      ),
      scope
    ).pipe(Effect.provideService(References.MinimumLogLevel, "None"))
  )
  const address = Context.get(context, HttpServer.HttpServer).address
  if (address._tag === "UnixPathAddress") throw new Error("expected a TCP address")
  return {
    url: (path) => `http://127.0.0.1:${address.port}${path}`,
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

export const postJson = (url: string, body: unknown, key: string = aiKey) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...bearer(key) },
    body: JSON.stringify(body)
  })

/** The SSE events of a response body, parsed: name (`message` when unnamed) and raw data. */
export const readSse = async (response: Response): Promise<Array<{ event: string; data: string }>> => {
  const text = await response.text()
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      let event = "message"
      const data: Array<string> = []
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7)
        else if (line.startsWith("data: ")) data.push(line.slice(6))
      }
      return { event, data: data.join("\n") }
    })
}

/** Polls `check` until it holds, or fails after `timeoutMs`. */
export const eventually = async (check: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time")
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** The tokens counted so far for the `ai-app` key, from the admin stats. */
export const tokensOf = async (gateway: ServedGateway): Promise<number> => {
  const stats = await (await fetch(gateway.url("/admin/keys/stats"), { headers: bearer(adminKey) })).json()
  return stats.keys.find((key: { name: string }) => key.name === "ai-app")?.tokens ?? 0
}

/** The tokens added to the `ai-app` key since `before`, once a stream's end has been accounted. */
export const tokensAdded = async (gateway: ServedGateway, before: number): Promise<number> => {
  for (let tries = 0; tries < 50; tries++) {
    const added = (await tokensOf(gateway)) - before
    if (added !== 0) return added
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return 0
}

/** A fake upstream, the gateway configured for it, and the official `openai` SDK pointed at the gateway. */
export interface SdkSuite {
  readonly upstream: Upstream
  readonly gateway: ServedGateway
  readonly client: OpenAI
}

/** The configuration of an OpenAI-compatible provider at `upstreamUrl`. */
export const openAiEnv = (upstreamUrl: string) => ({
  OPENAI_ENABLED: "true",
  OPENAI_API_KEY: "sk-upstream-secret",
  OPENAI_BASE_URL: `${upstreamUrl}/v1`
})

/**
 * Starts an upstream and a gateway configured by `env` (given the upstream's URL) before the
 * suite's tests, and closes both after them. Before each test the upstream forgets what it
 * received and `reset` scripts it afresh. The SDK's own retries are off, so each test sees exactly
 * what the gateway answered.
 */
export const sdkSuite = (
  env: (upstreamUrl: string) => Record<string, string>,
  reset: (upstream: Upstream) => void
): SdkSuite => {
  const parts: { -readonly [K in keyof SdkSuite]?: SdkSuite[K] } = {}
  beforeAll(async () => {
    parts.upstream = await startUpstream()
    parts.gateway = await serveGateway(env(parts.upstream.url))
    parts.client = new OpenAI({ apiKey: aiKey, baseURL: parts.gateway.url("/v1"), maxRetries: 0 })
  })
  afterAll(async () => {
    await parts.gateway?.close()
    await parts.upstream?.close()
  })
  beforeEach(() => {
    parts.upstream!.received.length = 0
    reset(parts.upstream!)
  })
  return {
    get upstream() {
      return parts.upstream!
    },
    get gateway() {
      return parts.gateway!
    },
    get client() {
      return parts.client!
    }
  }
}
