import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { KeyStore, SqlStores } from "@lunarbit/gateway-core"
import { Config, Effect, Layer, type Scope } from "effect"
import * as StateDir from "./StateDir.ts"

export interface Options {
  /** The database file; its directory is created. `:memory:` gives a private in-memory database. */
  readonly path: string
  /** How long a write waits for another process's lock before failing, in milliseconds. */
  readonly busyTimeoutMs?: number | undefined
}

/** One step of the schema, applied once in `migration_id` order. */
export type Migration = SqlStores.Migration

/** The gateway's schema, shared with the Workers adapter's D1 store: see `SqlStores.migrations`. */
export const migrations = SqlStores.migrations

/**
 * Applies the pending steps in one transaction and returns them. `BEGIN IMMEDIATE` takes the write
 * lock before the version is read, so processes opening a new database together apply each step once.
 * The table has the layout of the `effect/sql` migrator's, which `PgKeyStore` uses.
 */
export const migrate = (db: DatabaseSync, steps: ReadonlyArray<Migration> = migrations): ReadonlyArray<Migration> => {
  db.exec("BEGIN IMMEDIATE")
  try {
    db.exec(SqlStores.createMigrationsTable)
    const latest = Number(db.prepare(SqlStores.latestMigration).get()?.latest ?? 0)
    const pending = SqlStores.pendingMigrations(latest, steps)
    const record = db.prepare(SqlStores.recordMigration)
    for (const step of pending) {
      db.exec(step.sql)
      record.run(step.id, step.name)
    }
    db.exec("COMMIT")
    return pending
  } catch (error) {
    db.exec("ROLLBACK")
    throw error
  }
}

/**
 * Opens (creating if needed) and migrates the database at `options.path`, closing it when the scope
 * closes. WAL lets readers run beside the one writer, and other processes on the same file wait up
 * to `busyTimeoutMs` for a lock instead of failing at once.
 */
export const open = (options: Options): Effect.Effect<DatabaseSync, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true })
      // `timeout` is SQLite's busy_timeout. The wait is synchronous: it holds up the event loop, so
      // it only matters when several processes write to one file.
      const db = new DatabaseSync(options.path, { timeout: options.busyTimeoutMs ?? 5_000 })
      try {
        db.exec("PRAGMA journal_mode = WAL")
        // With WAL, NORMAL loses no committed data on a crash of the process, only on power loss.
        db.exec("PRAGMA synchronous = NORMAL")
        return { db, applied: migrate(db) }
      } catch (error) {
        db.close()
        throw error
      }
    }),
    ({ db }) => Effect.sync(() => db.isOpen && db.close())
  ).pipe(
    Effect.tap(({ applied }) =>
      applied.length === 0
        ? Effect.void
        : Effect.logInfo("Database schema migrated", {
            path: options.path,
            applied: applied.map((step) => `${step.id}_${step.name}`)
          })
    ),
    Effect.map(({ db }) => db)
  )

const transaction = <A>(db: DatabaseSync, body: () => A): A => {
  db.exec("BEGIN IMMEDIATE")
  try {
    const result = body()
    db.exec("COMMIT")
    return result
  } catch (error) {
    db.exec("ROLLBACK")
    throw error
  }
}

/**
 * The key store over an open, migrated database. `node:sqlite` is synchronous, so each operation
 * runs to completion before the next: `create` is atomic by the primary key and usage is added in
 * SQL, which also keeps several processes sharing the file exact. `now` is the clock that decides
 * whether a previous hash is still in its grace period.
 */
export const make = (db: DatabaseSync, now: () => number = Date.now): KeyStore.KeyStoreShape => {
  const { statements } = SqlStores
  const byName = db.prepare(statements.keyByName)
  const byHash = db.prepare(statements.keysByHash)
  const all = db.prepare(statements.allKeys)
  const insert = db.prepare(statements.insertKey)
  const revoke = db.prepare(statements.revokeKey)
  const rotate = db.prepare(statements.rotateKey)
  const addUsage = db.prepare(statements.addUsage)
  const usage = db.prepare(statements.usage)
  const appendAudit = db.prepare(statements.appendAudit)
  const auditPage = db.prepare(statements.auditPage)
  const auditTotal = db.prepare(statements.auditTotal)
  const { keyFromRow, usageFromRow, auditFromRow } = SqlStores

  return {
    findByHash: (hash) =>
      Effect.sync(() => {
        const keys = byHash.all(hash, hash).map(keyFromRow)
        return keys.find((key) => key.hash === hash) ?? keys.find((key) => KeyStore.matchesPrevious(key, hash, now()))
      }),
    findByName: (name) =>
      Effect.sync(() => {
        const row = byName.get(name)
        return row === undefined ? undefined : keyFromRow(row)
      }),
    list: Effect.sync(() => all.all().map(keyFromRow)),
    create: (key) =>
      Effect.suspend(() =>
        insert.run(...SqlStores.keyValues(key)).changes === 0
          ? Effect.fail(new KeyStore.DuplicateKeyName(key.name))
          : Effect.void
      ),
    revoke: (name, at) => Effect.sync(() => revoke.run(at, name).changes > 0),
    rotate: (name, rotation) =>
      Effect.sync(() => {
        const row = rotate.get(rotation.hash, rotation.last4, rotation.previousExpiresAt, name)
        return row === undefined ? undefined : keyFromRow(row)
      }),
    recordUsage: (deltas) =>
      Effect.sync(() => {
        const merged = SqlStores.mergeDeltas(deltas)
        if (merged.length === 0) return
        transaction(db, () => {
          for (const d of merged) addUsage.run(d.name, d.requests, d.errors, d.tokens, d.lastUsedAt)
        })
      }),
    usage: Effect.sync(() => usage.all().map(usageFromRow)),
    appendAudit: (event) =>
      Effect.sync(() => {
        appendAudit.run(...SqlStores.auditValues(event))
      }),
    listAudit: ({ offset, limit }) =>
      Effect.sync(() => ({
        events: auditPage.all(limit, offset).map(auditFromRow),
        total: Number(auditTotal.get()?.total ?? 0)
      }))
  }
}

/** The settings read from configuration: `DATABASE_PATH` (see `StateDir`) and `SQLITE_BUSY_TIMEOUT` (ms). */
export const config: Config.Config<Options> = Config.all({
  path: StateDir.databasePath,
  busyTimeoutMs: Config.Int("SQLITE_BUSY_TIMEOUT").pipe(Config.withDefault(5_000))
})

/** The key store in the SQLite database at `options.path`, open for the layer's lifetime. */
export const layer = (options: Options): Layer.Layer<KeyStore.KeyStore> =>
  Layer.effect(
    KeyStore.KeyStore,
    Effect.map(open(options), (db) => make(db))
  )

/** {@link layer} with its settings from {@link config}. */
export const layerConfig: Layer.Layer<KeyStore.KeyStore, Config.ConfigError> = Layer.unwrap(Effect.map(config, layer))
