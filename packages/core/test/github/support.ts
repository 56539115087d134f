import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Exit, Layer, References, Scope } from "effect"
import { HttpServer } from "effect/http"
import { afterEach } from "vitest"
import * as ApiKeyFormat from "../../src/access/domain/ApiKeyFormat.ts"
import * as KeyHash from "../../src/access/domain/KeyHash.ts"
import type * as KeyStore from "../../src/access/ports/KeyStore.ts"
import * as Gateway from "../../src/Gateway.ts"
import type { CatalogIndex } from "../../src/releases/domain/CatalogIndex.ts"
import type { ReleaseSource, ReleaseSourceShape } from "../../src/releases/ports/ReleaseSource.ts"
import { memoryPorts } from "../../src/testing/index.ts"
import { startFakeGitHub } from "./FakeGitHub.ts"

/** Helpers shared by the GitHub tests: scoped resources, polling, and a gateway over given ports. */
export const adminKey = "test-admin-key-0123456789abcdef0123"
export const readerKey = ApiKeyFormat.generate()
export const admin = { authorization: `Bearer ${adminKey}` }
export const reader = { authorization: `Bearer ${readerKey}` }

/** Runs `effect` in a fresh scope, logging off, and hands back its value with a way to close the scope. */
export const scoped = async <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) => {
  const scope = Scope.makeUnsafe()
  const value = await Effect.runPromise(
    Scope.provide(effect, scope).pipe(Effect.provideService(References.MinimumLogLevel, "None"))
  )
  return { value, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/**
 * Resources a test file opens (fake servers, scoped sources), closed after each test in reverse
 * order of opening, so a source stops before the fake it talks to.
 */
export const closeAfterEach = () => {
  const open: Array<{ close: () => Promise<void> }> = []
  afterEach(async () => {
    for (const resource of open.splice(0).reverse()) await resource.close()
  })
  const track = <A extends { close: () => Promise<void> }>(resource: A): A => {
    open.push(resource)
    return resource
  }
  return { track, fake: async (options: { token?: string } = {}) => track(await startFakeGitHub(options)) }
}

/** Polls `check` until it returns a value other than `undefined`, or fails after `timeoutMs`. */
export const eventually = async <A>(check: () => Promise<A | undefined> | A | undefined, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error("condition not met in time")
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export const catalogOf = (source: ReleaseSourceShape) => Effect.runPromise(source.catalog)

/** A build's status in `index`, found by project, channel, version and build id. */
export const statusOf = (index: CatalogIndex, project: string, channel: string, version: string, build: string) =>
  index.projectsById.get(project)?.channels.get(channel)?.versionsById.get(version)?.builds.get(build)?.status

const readerStoredKey = async (): Promise<KeyStore.StoredKey> => ({
  name: "reader",
  description: "A key that reads the catalog and checks for updates",
  hash: await KeyHash.hash(await KeyHash.importSecret(adminKey), readerKey),
  last4: readerKey.slice(-4),
  permissions: ["canReadProjects", "canReadVersions", "canCheckUpdates"],
  tags: [],
  createdAt: "2026-01-01T00:00:00Z"
})

/**
 * The gateway's requirements with `source` as the release source (it replaces the empty memory
 * one), configuration from `env`, an admin and a reader key, and every other port in memory.
 */
export const ports = async <E>(source: Layer.Layer<ReleaseSource, E>, env: Record<string, string> = {}) =>
  Layer.merge(
    memoryPorts({
      catalog: { projects: [] },
      env: { API_KEY_ADMIN: adminKey, ...env },
      keys: [await readerStoredKey()]
    }),
    source
  )

/** The gateway served by Node's HTTP server on a free loopback port. */
export const serve = async <E>(requirements: Layer.Layer<Gateway.Requirements, E>) => {
  const scope = Scope.makeUnsafe()
  const context = await Effect.runPromise(
    Layer.buildWithScope(
      Gateway.layer.pipe(
        Layer.provide(requirements),
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
        Layer.provide(Layer.succeed(References.MinimumLogLevel, "None"))
      ),
      scope
    )
  )
  const address = Context.get(context, HttpServer.HttpServer).address
  if (address._tag === "UnixPathAddress") throw new Error("expected a TCP address")
  return {
    url: (path: string) => `http://127.0.0.1:${address.port}${path}`,
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
