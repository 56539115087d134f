import { afterAll, assert, describe, it } from "@effect/vitest"
import { SqlStores } from "@lunarbit/gateway-core"
import { keyStoreSuite } from "@lunarbit/gateway-core/testing"
import { Effect, Layer, Logger } from "effect"
import { Miniflare } from "miniflare"
import * as D1KeyStore from "../../src/D1KeyStore.ts"

// A real D1 database in workerd; Miniflare's binding proxy carries each statement there.
const miniflare = new Miniflare({
  modules: true,
  script: "export default { fetch: () => new Response(null, { status: 204 }) }",
  d1Databases: ["DB", "FRESH"]
})
afterAll(() => miniflare.dispose())

keyStoreSuite(
  "D1 in workerd",
  Layer.unwrap(Effect.promise(async () => D1KeyStore.layer(await miniflare.getD1Database("DB")))).pipe(
    Layer.provide(Logger.layer([]))
  )
)

describe("D1 migrations", () => {
  it.effect("are applied once, by whichever of several isolates starting together gets there first", () =>
    Effect.gen(function* () {
      const db = yield* Effect.promise(() => miniflare.getD1Database("FRESH"))
      const applied = yield* Effect.promise(() => Promise.all([D1KeyStore.migrate(db), D1KeyStore.migrate(db)]))
      // Each step was applied by one of them (the other found it applied), and is recorded once.
      assert.deepStrictEqual(
        applied
          .flat()
          .map((step) => step.id)
          .sort(),
        SqlStores.migrations.map((step) => step.id)
      )
      assert.deepStrictEqual(yield* Effect.promise(() => D1KeyStore.migrate(db)), [])
      const recorded = yield* Effect.promise(
        (): Promise<{ readonly results: unknown }> =>
          db.prepare("SELECT migration_id, name FROM schema_migrations ORDER BY migration_id").all()
      )
      assert.deepStrictEqual(
        recorded.results,
        SqlStores.migrations.map((step) => ({ migration_id: step.id, name: step.name }))
      )
    })
  )
})
