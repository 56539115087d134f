import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { KeyStore } from "@lunarbit/gateway-core"
import { keyStoreSuite } from "@lunarbit/gateway-core/testing"
import { Effect, Layer, Logger } from "effect"
import * as SqliteKeyStore from "../../src/SqliteKeyStore.ts"

const dir = mkdtempSync(join(tmpdir(), "lunarbit-sqlite-keys-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
/** A database file in a directory that does not exist yet, so every test also checks it is created. */
const freshPath = () => join(dir, `db${++files}`, "nested", "gateway.db")

const quiet = Logger.layer([])
keyStoreSuite("SQLite file", SqliteKeyStore.layer({ path: freshPath() }).pipe(Layer.provide(quiet)))

const withStore = <A, E>(path: string, use: (store: KeyStore.KeyStoreShape) => Effect.Effect<A, E>) =>
  Effect.scoped(Effect.flatMap(SqliteKeyStore.open({ path }), (db) => use(SqliteKeyStore.make(db))))

const key: KeyStore.StoredKey = {
  name: "persisted",
  description: "survives a restart",
  hash: "persisted-hash",
  last4: "abcd",
  permissions: ["canReadProjects"],
  allowedProjects: [],
  tags: ["t"],
  createdAt: "2026-01-01T00:00:00.000Z"
}

const migrationRows = (path: string) => {
  const db = new DatabaseSync(path, { readOnly: true })
  try {
    return db.prepare("SELECT migration_id, name FROM schema_migrations ORDER BY migration_id").all()
  } finally {
    db.close()
  }
}

describe("SqliteKeyStore", () => {
  it.live("keeps keys, usage and audit across close and reopen", () =>
    Effect.gen(function* () {
      const path = freshPath()
      yield* withStore(path, (store) =>
        Effect.gen(function* () {
          yield* store.create(key)
          yield* store.recordUsage([
            { name: key.name, requests: 2, errors: 1, tokens: 7, lastUsedAt: "2026-01-02T00:00:00.000Z" }
          ])
          yield* store.appendAudit({ at: key.createdAt, action: "key.created", actor: "admin", requestId: "r1" })
          yield* store.rotate(key.name, {
            hash: "rotated-hash",
            last4: "wxyz",
            previousExpiresAt: "2999-01-01T00:00:00.000Z"
          })
        })
      )
      yield* withStore(path, (store) =>
        Effect.gen(function* () {
          const found = yield* store.findByHash("persisted-hash")
          assert.deepStrictEqual(found, {
            ...key,
            hash: "rotated-hash",
            last4: "wxyz",
            previousHash: "persisted-hash",
            previousExpiresAt: "2999-01-01T00:00:00.000Z"
          })
          assert.deepStrictEqual(yield* store.usage, [
            { name: key.name, requests: 2, errors: 1, tokens: 7, lastUsedAt: "2026-01-02T00:00:00.000Z" }
          ])
          assert.deepStrictEqual(yield* store.listAudit({ offset: 0, limit: 10 }), {
            events: [{ at: key.createdAt, action: "key.created", actor: "admin", requestId: "r1" }],
            total: 1
          })
          const duplicate = yield* Effect.flip(store.create(key))
          assert.instanceOf(duplicate, KeyStore.DuplicateKeyName)
        })
      )
    }).pipe(Effect.provide(quiet))
  )

  it.live("applies each migration once, however often the database is opened, in WAL mode", () =>
    Effect.gen(function* () {
      const path = freshPath()
      yield* Effect.scoped(SqliteKeyStore.open({ path }))
      yield* Effect.scoped(
        Effect.gen(function* () {
          const db = yield* SqliteKeyStore.open({ path })
          assert.deepStrictEqual(SqliteKeyStore.migrate(db), [])
          assert.strictEqual(db.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal")
          // Open twice at once, as the key store and the download store do.
          yield* SqliteKeyStore.open({ path })
        })
      )
      assert.deepStrictEqual(
        migrationRows(path).map((row) => [row.migration_id, row.name]),
        SqliteKeyStore.migrations.map((step) => [step.id, step.name])
      )
    }).pipe(Effect.provide(quiet))
  )

  it.live("brings an older database up to date, and rolls a failing step back entirely", () =>
    Effect.gen(function* () {
      const path = freshPath()
      yield* Effect.scoped(
        Effect.gen(function* () {
          const db = yield* SqliteKeyStore.open({ path: ":memory:" })
          assert.strictEqual(
            db.prepare("SELECT count(*) AS n FROM schema_migrations").get()?.n,
            SqliteKeyStore.migrations.length
          )
        })
      )
      // Turn a database back into one made by the first release only: the next open adds the rest.
      yield* Effect.scoped(
        Effect.gen(function* () {
          const db = yield* SqliteKeyStore.open({ path })
          db.exec(`DROP TABLE downloads; DROP TABLE rollouts; ALTER TABLE api_keys DROP COLUMN created_by;
                   DELETE FROM schema_migrations WHERE migration_id > 1`)
        })
      )
      yield* Effect.scoped(SqliteKeyStore.open({ path }))
      assert.deepStrictEqual(
        migrationRows(path).map((row) => row.migration_id),
        SqliteKeyStore.migrations.map((step) => step.id)
      )

      const db = new DatabaseSync(path)
      try {
        const broken = [
          { id: 100, name: "adds_a_table", sql: "CREATE TABLE extra (id INTEGER)" },
          { id: 101, name: "broken", sql: "CREATE TABLE nonsense (" }
        ]
        assert.throws(() => SqliteKeyStore.migrate(db, [...SqliteKeyStore.migrations, ...broken]))
        const tables = db.prepare("SELECT name FROM sqlite_master WHERE name = 'extra'").all()
        assert.deepStrictEqual(tables, [])
        assert.strictEqual(
          db.prepare("SELECT max(migration_id) AS latest FROM schema_migrations").get()?.latest,
          SqliteKeyStore.migrations.at(-1)!.id
        )
      } finally {
        db.close()
      }
    }).pipe(Effect.provide(quiet))
  )

  it.live("shares the file between two open stores: names stay unique and usage adds up", () =>
    Effect.gen(function* () {
      const path = freshPath()
      yield* Effect.scoped(
        Effect.gen(function* () {
          const a = SqliteKeyStore.make(yield* SqliteKeyStore.open({ path }))
          const b = SqliteKeyStore.make(yield* SqliteKeyStore.open({ path }))
          yield* a.create(key)
          assert.instanceOf(yield* Effect.flip(b.create(key)), KeyStore.DuplicateKeyName)
          assert.strictEqual((yield* b.findByHash(key.hash))?.name, key.name)
          const delta = { name: key.name, requests: 1, errors: 0, tokens: 3, lastUsedAt: "2026-02-01T00:00:00.000Z" }
          yield* Effect.all([a.recordUsage([delta]), b.recordUsage([delta]), a.recordUsage([delta])], {
            concurrency: "unbounded"
          })
          assert.deepStrictEqual(yield* b.usage, [{ ...delta, requests: 3, tokens: 9 }])
        })
      )
    }).pipe(Effect.provide(quiet))
  )
})
