import { afterAll, beforeAll } from "@effect/vitest"
import { rolloutStoreSuite } from "@lunarbit/gateway-core/testing"
import { Effect, Layer, Logger, Redacted } from "effect"
import * as PgRolloutStore from "../../src/PgRolloutStore.ts"
import { postgresDatabase, type TestPostgres } from "../support/services.ts"

// The suite's layer is built lazily on its first test, after `beforeAll` has the database ready.
let database: TestPostgres | undefined
beforeAll(async () => {
  database = await postgresDatabase()
}, 120_000)
afterAll(() => database?.close())

rolloutStoreSuite(
  "PostgreSQL",
  Layer.unwrap(Effect.sync(() => PgRolloutStore.layer({ url: Redacted.make(database!.url) }))).pipe(
    Layer.provide(Logger.layer([]))
  )
)
