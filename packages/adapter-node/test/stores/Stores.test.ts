import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { DownloadStore, KeyStore, RateLimitStore } from "@lunarbit/gateway-core"
import { ConfigProvider, Context, Effect, Layer, Logger, Redacted } from "effect"
import { Redis } from "ioredis"
import * as PgKeyStore from "../../src/PgKeyStore.ts"
import * as SqliteKeyStore from "../../src/SqliteKeyStore.ts"
import * as Stores from "../../src/Stores.ts"
import { postgresDatabase, redisServer, type TestPostgres, type TestRedis } from "../support/services.ts"

let database: TestPostgres | undefined
let redis: TestRedis | undefined
const dir = mkdtempSync(join(tmpdir(), "lunarbit-stores-"))
beforeAll(async () => {
  ;[database, redis] = await Promise.all([postgresDatabase(), redisServer()])
}, 120_000)
afterAll(async () => {
  await Promise.all([database?.close(), redis?.close()])
  rmSync(dir, { recursive: true, force: true })
})

const key: KeyStore.StoredKey = {
  name: "selected",
  description: "",
  hash: "selected-hash",
  last4: "0000",
  permissions: [],
  tags: [],
  createdAt: "2026-01-01T00:00:00.000Z"
}

/** The three stores `Stores.layerConfig` builds from `env`, used once, then closed. */
const useStores = (env: Record<string, string>) =>
  Effect.gen(function* () {
    const context = yield* Layer.build(
      Stores.layerConfig.pipe(
        Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(env))),
        Layer.provide(Logger.layer([]))
      )
    )
    const keys = Context.get(context, KeyStore.KeyStore)
    yield* keys.create(key)
    yield* Context.get(context, DownloadStore.DownloadStore).record({
      project: "p",
      channel: "c",
      version: "1.0.0",
      build: "b"
    })
    const limits = Context.get(context, RateLimitStore.RateLimitStore)
    yield* limits.hit({ key: "probe", limit: 5, windowMs: 60_000 }, Date.now())
  }).pipe(Effect.scoped)

const selected = (env: Record<string, string>) => Stores.selection.parse(ConfigProvider.fromUnknown(env))

describe("Stores.layerConfig", () => {
  it.live("uses the SQLite file for keys and downloads, and memory for rate limits, when no server is set", () =>
    Effect.gen(function* () {
      const path = join(dir, "local", "gateway.db")
      assert.deepStrictEqual(yield* selected({}), { keys: "sqlite", downloads: "sqlite", rateLimits: "memory" })
      yield* useStores({ DATABASE_PATH: path })
      assert.isTrue(existsSync(path))
      const reopened = yield* Effect.scoped(
        Effect.flatMap(SqliteKeyStore.open({ path }), (db) => SqliteKeyStore.make(db).findByName(key.name))
      ).pipe(Effect.provide(Logger.layer([])))
      assert.deepStrictEqual(reopened, key)
    })
  )

  it.live("uses PostgreSQL for keys and Redis for rate limits when DATABASE_URL and REDIS_URL are set", () =>
    Effect.gen(function* () {
      const env = {
        DATABASE_URL: database!.url,
        REDIS_URL: redis!.url,
        RATE_LIMIT_REDIS_PREFIX: redis!.prefix,
        DATABASE_PATH: join(dir, "downloads", "gateway.db")
      }
      assert.deepStrictEqual(yield* selected(env), { keys: "postgresql", downloads: "sqlite", rateLimits: "redis" })
      yield* useStores(env)

      const inPostgres = yield* KeyStore.KeyStore.use((store) => store.findByName(key.name)).pipe(
        Effect.provide(PgKeyStore.layer({ url: Redacted.make(database!.url) }).pipe(Layer.provide(Logger.layer([]))))
      )
      assert.deepStrictEqual(inPostgres, key)
      const client = new Redis(redis!.url)
      const buckets = yield* Effect.promise(() => client.keys(`${redis!.prefix}*`)).pipe(
        Effect.ensuring(Effect.promise(() => client.quit()))
      )
      assert.deepStrictEqual(buckets, [`${redis!.prefix}probe`])
      assert.isTrue(existsSync(env.DATABASE_PATH))
    })
  )
})
