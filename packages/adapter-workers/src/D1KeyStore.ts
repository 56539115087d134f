import { KeyStore, SqlStores } from "@lunarbit/gateway-core"
import { Effect, Layer } from "effect"
import type { D1Database } from "./Cloudflare.ts"

/**
 * Applies the schema's pending steps, each in one D1 batch (a transaction) with its record in
 * `schema_migrations`, and returns the steps this call applied. Isolates starting together may race to apply a step: the
 * loser's batch fails as a whole (the table exists, the step's id is taken), and it goes on when
 * the step turns out to be applied.
 */
export const migrate = async (
  db: D1Database,
  steps: ReadonlyArray<SqlStores.Migration> = SqlStores.migrations
): Promise<ReadonlyArray<SqlStores.Migration>> => {
  const latest = async () =>
    Number((await db.prepare(SqlStores.latestMigration).first<{ latest: number | null }>())?.latest ?? 0)
  await db.prepare(SqlStores.createMigrationsTable).run()
  const applied: Array<SqlStores.Migration> = []
  for (const step of SqlStores.pendingMigrations(await latest(), steps)) {
    try {
      await db.batch([
        ...SqlStores.statementsOf(step).map((statement) => db.prepare(statement)),
        db.prepare(SqlStores.recordMigration).bind(step.id, step.name)
      ])
      applied.push(step)
    } catch (error) {
      if ((await latest()) < step.id) throw error
    }
  }
  return applied
}

const runners = new WeakMap<D1Database, <A>(query: () => Promise<A>) => Effect.Effect<A>>()

/**
 * Runs each query after `migrate`, which runs before the first query of this isolate to reach the
 * database, not when the layer is built: a Worker builds it at module scope, where I/O is not
 * allowed. A failed migration is retried by the next query. The stores sharing a database share it.
 */
export const migrated = (db: D1Database): (<A>(query: () => Promise<A>) => Effect.Effect<A>) => {
  const known = runners.get(db)
  if (known !== undefined) return known
  let done = false
  const ready = Effect.suspend(() =>
    done
      ? Effect.void
      : Effect.tap(
          Effect.promise(() => migrate(db)),
          (applied) => {
            done = true
            return applied.length === 0
              ? Effect.void
              : Effect.logInfo("D1 schema migrated", { applied: applied.map((step) => `${step.id}_${step.name}`) })
          }
        )
  )
  const run = <A>(query: () => Promise<A>): Effect.Effect<A> => Effect.andThen(ready, Effect.promise(query))
  runners.set(db, run)
  return run
}

/**
 * The key store in a D1 database, with the SQL of the Node adapter's SQLite store. Each statement is
 * atomic in D1: `create` by the primary key, usage added in SQL (one batch per flush), so every
 * isolate and location sharing the database counts exactly. `now` decides whether a previous hash
 * is still in its grace period.
 */
export const make = (db: D1Database, now: () => number = Date.now): KeyStore.KeyStoreShape => {
  const { statements, keyFromRow, usageFromRow, auditFromRow } = SqlStores
  const query = migrated(db)
  const bound = (sql: string, values: ReadonlyArray<unknown>) => db.prepare(sql).bind(...values)
  const rows = (sql: string, ...values: ReadonlyArray<unknown>) =>
    query(async () => (await bound(sql, values).all()).results)
  /** Runs a write; its number of changed rows. */
  const write = (sql: string, ...values: ReadonlyArray<unknown>) =>
    query(async () => (await bound(sql, values).run()).meta.changes)

  return {
    findByHash: (hash) =>
      Effect.map(rows(statements.keysByHash, hash, hash), (found) => {
        const keys = found.map(keyFromRow)
        return keys.find((key) => key.hash === hash) ?? keys.find((key) => KeyStore.matchesPrevious(key, hash, now()))
      }),
    findByName: (name) => Effect.map(rows(statements.keyByName, name), (found) => found.map(keyFromRow)[0]),
    list: Effect.map(rows(statements.allKeys), (found) => found.map(keyFromRow)),
    create: (key) =>
      Effect.flatMap(write(statements.insertKey, ...SqlStores.keyValues(key)), (changed) =>
        changed === 0 ? Effect.fail(new KeyStore.DuplicateKeyName(key.name)) : Effect.void
      ),
    revoke: (name, at) => Effect.map(write(statements.revokeKey, at, name), (changed) => changed > 0),
    rotate: (name, rotation) =>
      Effect.map(
        rows(statements.rotateKey, rotation.hash, rotation.last4, rotation.previousExpiresAt, name),
        (found) => found.map(keyFromRow)[0]
      ),
    recordUsage: (deltas) => {
      const merged = SqlStores.mergeDeltas(deltas)
      if (merged.length === 0) return Effect.void
      return Effect.asVoid(
        query(() =>
          db.batch(
            merged.map((d) =>
              db.prepare(statements.addUsage).bind(d.name, d.requests, d.errors, d.tokens, d.lastUsedAt)
            )
          )
        )
      )
    },
    usage: Effect.map(rows(statements.usage), (found) => found.map(usageFromRow)),
    appendAudit: (event) => Effect.asVoid(write(statements.appendAudit, ...SqlStores.auditValues(event))),
    listAudit: ({ offset, limit }) =>
      Effect.map(
        Effect.all([rows(statements.auditPage, limit, offset), rows(statements.auditTotal)]),
        ([page, total]) => ({ events: page.map(auditFromRow), total: Number(total[0]?.total ?? 0) })
      )
  }
}

/** The key store in the D1 database bound as `db`. */
export const layer = (db: D1Database): Layer.Layer<KeyStore.KeyStore> => Layer.succeed(KeyStore.KeyStore, make(db))
