import { PgClient } from "@effect/sql-pg"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { KeyStore } from "@lunarbit/gateway-core"
import { keyStoreSuite } from "@lunarbit/gateway-core/testing"
import { Context, Effect, Layer, Logger, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import * as PgKeyStore from "../../src/PgKeyStore.ts"
import { postgresDatabase, type TestPostgres } from "../support/services.ts"

// The suite's layer is built lazily on its first test, after `beforeAll` has the database ready.
let database: TestPostgres | undefined
beforeAll(async () => {
  database = await postgresDatabase()
}, 120_000)
afterAll(() => database?.close())

const connection = () => ({ url: Redacted.make(database!.url) })
const quietly = Layer.provide(Logger.layer([]))

keyStoreSuite("PostgreSQL", Layer.unwrap(Effect.sync(() => PgKeyStore.layer(connection()))).pipe(quietly))

/** A store and a raw client on the test database, for the lifetime of the current scope. */
const storeAndSql = Effect.gen(function* () {
  const context = yield* Layer.build(
    Layer.merge(PgKeyStore.layer(connection()), PgClient.layer(connection())).pipe(quietly, Layer.orDie)
  )
  return { store: Context.get(context, KeyStore.KeyStore), sql: Context.get(context, SqlClient.SqlClient) }
})

describe("PgKeyStore", () => {
  it.live("migrates once: reopening applies nothing and keeps the data", () =>
    Effect.gen(function* () {
      const key: KeyStore.StoredKey = {
        name: "pg-reopen",
        description: "",
        hash: "pg-reopen-hash",
        last4: "0000",
        permissions: ["canUseAI"],
        tags: [],
        createdAt: "2026-01-01T00:00:00.000Z"
      }
      yield* Effect.scoped(Effect.flatMap(storeAndSql, ({ store }) => store.create(key)))
      yield* Effect.scoped(
        Effect.gen(function* () {
          const { store, sql } = yield* storeAndSql
          assert.deepStrictEqual(yield* store.findByName(key.name), key)
          const applied = yield* sql<{ migration_id: number; name: string }>`
            SELECT migration_id, name FROM schema_migrations ORDER BY migration_id`.pipe(Effect.orDie)
          assert.deepStrictEqual(
            applied.map((row) => [row.migration_id, row.name]),
            [
              [1, "keys"],
              [2, "key_creators"],
              [3, "rollouts"]
            ]
          )
          // Applying again directly finds nothing to do.
          assert.deepStrictEqual(yield* PgKeyStore.migrate.pipe(Effect.provideService(SqlClient.SqlClient, sql)), [])
        })
      )
    })
  )

  it.live("migrates a new database once when several gateways start against it together", () =>
    Effect.gen(function* () {
      const { sql } = yield* storeAndSql
      yield* sql`CREATE SCHEMA fresh_start`.pipe(Effect.orDie)
      // A schema of its own on the search path stands in for a new database.
      const fresh = { ...connection(), startupParameters: { search_path: "fresh_start" } }
      const gateways = yield* Effect.forEach(
        [1, 2, 3, 4],
        () => Effect.map(Layer.build(PgKeyStore.layer(fresh).pipe(quietly)), Context.get(KeyStore.KeyStore)),
        { concurrency: "unbounded" }
      )
      const key = { name: "fresh", description: "", hash: "h", last4: "h", permissions: [], tags: [], createdAt: "t" }
      yield* gateways[0]!.create(key)
      assert.deepStrictEqual(yield* gateways[3]!.findByHash("h"), key)
      const steps = yield* sql`SELECT migration_id FROM fresh_start.schema_migrations`.pipe(Effect.orDie)
      assert.deepStrictEqual(steps, [{ migration_id: 1 }, { migration_id: 2 }, { migration_id: 3 }])
    }).pipe(Effect.scoped)
  )

  it.live("keeps counting exactly when several instances flush usage at once", () =>
    Effect.gen(function* () {
      const instances = yield* Effect.all([storeAndSql, storeAndSql, storeAndSql])
      const delta = { name: "pg-shared", requests: 1, errors: 0, tokens: 2, lastUsedAt: "2026-03-01T00:00:00.000Z" }
      yield* Effect.forEach(
        Array.from({ length: 90 }, (_, i) => i),
        (i) => instances[i % 3]!.store.recordUsage([delta, { ...delta, name: "pg-other" }]),
        { concurrency: "unbounded", discard: true }
      )
      const usage = yield* instances[0]!.store.usage
      assert.deepStrictEqual(
        usage.filter((u) => u.name.startsWith("pg-")),
        [
          { ...delta, name: "pg-other", requests: 90, tokens: 180 },
          { ...delta, requests: 90, tokens: 180 }
        ]
      )
    }).pipe(Effect.scoped)
  )
})
