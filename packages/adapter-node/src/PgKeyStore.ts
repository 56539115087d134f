import { PgClient } from "@effect/sql-pg"
import { KeyStore, SqlStores } from "@lunarbit/gateway-core"
import { Array as Arr, Config, Effect, Layer } from "effect"
import { Migrator, SqlClient } from "effect/sql"

const { auditFromRow, keyFromRow, keyValues, mergeDeltas, usageFromRow } = SqlStores

/**
 * The schema, as `SqliteKeyStore`'s steps 1 and 3 (download counts stay in SQLite, see `Stores.ts`), with
 * the same columns so the row codec is shared. Counters are bigint; `last_used_at` compares byte by
 * byte (`COLLATE "C"`), as ISO 8601 strings must, whatever the database's locale.
 */
const schema = {
  "1_keys": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE api_keys (
      name text PRIMARY KEY,
      description text NOT NULL,
      hash text NOT NULL,
      last4 text NOT NULL,
      permissions text NOT NULL,
      allowed_projects text,
      tags text NOT NULL,
      rate_limit integer,
      created_at text NOT NULL,
      expires_at text,
      revoked_at text,
      previous_hash text,
      previous_expires_at text
    )`
    yield* sql`CREATE INDEX api_keys_hash ON api_keys (hash)`
    yield* sql`CREATE INDEX api_keys_previous_hash ON api_keys (previous_hash) WHERE previous_hash IS NOT NULL`
    yield* sql`CREATE TABLE key_usage (
      name text PRIMARY KEY,
      requests bigint NOT NULL,
      errors bigint NOT NULL,
      tokens bigint NOT NULL,
      last_used_at text COLLATE "C"
    )`
    yield* sql`CREATE TABLE audit_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at text NOT NULL,
      action text NOT NULL,
      actor text NOT NULL,
      target text,
      request_id text NOT NULL,
      details text
    )`
    // Pruning old events and reading a period go by time; the listing itself goes by id.
    yield* sql`CREATE INDEX audit_events_at ON audit_events (at)`
  }),
  // Which key created each key: a key may act only on the keys it created. NULL: the admin's.
  "2_key_creators": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`ALTER TABLE api_keys ADD COLUMN created_by text`
  }),
  "3_rollouts": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE rollouts (
      project text NOT NULL,
      channel text NOT NULL,
      version text NOT NULL,
      percentage integer NOT NULL,
      paused boolean NOT NULL,
      updated_at text NOT NULL,
      updated_by text NOT NULL,
      PRIMARY KEY (project, channel, version)
    )`
  })
}

/**
 * Applies the pending schema steps with the `effect/sql` migrator: in one transaction holding a lock
 * on `schema_migrations`, so gateways starting together against a new database migrate it once.
 */
export const migrate = Migrator.make({})({ loader: Migrator.fromRecord(schema), table: "schema_migrations" }).pipe(
  Effect.tap((applied) =>
    applied.length === 0
      ? Effect.void
      : Effect.logInfo("Database schema migrated", { applied: applied.map(([id, name]) => `${id}_${name}`) })
  ),
  Effect.orDie
)

const keyColumns = [
  "name",
  "description",
  "hash",
  "last4",
  "permissions",
  "allowed_projects",
  "tags",
  "rate_limit",
  "created_at",
  "expires_at",
  "revoked_at",
  "previous_hash",
  "previous_expires_at",
  "created_by"
] as const

/**
 * The key store over a migrated database. Names are unique by the primary key (`ON CONFLICT DO
 * NOTHING` lets exactly one concurrent create win) and usage is added in SQL, so instances sharing
 * the database stay exact. `now` decides whether a previous hash is still in its grace period.
 */
export const make = (now: () => number = Date.now): Effect.Effect<KeyStore.KeyStoreShape, never, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const columns = sql.literal(keyColumns.join(", "))
    const keyRows = (rows: ReadonlyArray<Record<string, unknown>>) => rows.map(keyFromRow)

    return {
      findByHash: (hash) =>
        sql`SELECT ${columns} FROM api_keys WHERE hash = ${hash} OR previous_hash = ${hash}`.pipe(
          Effect.map(keyRows),
          Effect.map(
            (keys) =>
              keys.find((key) => key.hash === hash) ?? keys.find((key) => KeyStore.matchesPrevious(key, hash, now()))
          ),
          Effect.orDie
        ),
      findByName: (name) =>
        sql`SELECT ${columns} FROM api_keys WHERE name = ${name}`.pipe(
          Effect.map((rows) => keyRows(rows)[0]),
          Effect.orDie
        ),
      list: sql`SELECT ${columns} FROM api_keys ORDER BY created_at, name`.pipe(Effect.map(keyRows), Effect.orDie),
      create: (key) => {
        const values = keyValues(key)
        const row = Object.fromEntries(keyColumns.map((column, i) => [column, values[i]]))
        return sql`INSERT INTO api_keys ${sql.insert(row)} ON CONFLICT (name) DO NOTHING RETURNING name`.pipe(
          Effect.orDie,
          Effect.flatMap((inserted) =>
            inserted.length === 0 ? Effect.fail(new KeyStore.DuplicateKeyName(key.name)) : Effect.void
          )
        )
      },
      revoke: (name, at) =>
        sql`UPDATE api_keys SET revoked_at = coalesce(revoked_at, ${at}) WHERE name = ${name} RETURNING name`.pipe(
          Effect.map((rows) => rows.length > 0),
          Effect.orDie
        ),
      // SET expressions read the row as it was, so `previous_hash = hash` keeps the replaced hash.
      rotate: (name, rotation) =>
        sql`UPDATE api_keys
            SET previous_hash = hash, hash = ${rotation.hash}, last4 = ${rotation.last4},
                previous_expires_at = ${rotation.previousExpiresAt}
            WHERE name = ${name} RETURNING ${columns}`.pipe(
          Effect.map((rows) => keyRows(rows)[0]),
          Effect.orDie
        ),
      recordUsage: (deltas) => {
        // One row per name, in name order: a batch is one statement, and concurrent batches lock
        // their rows in the same order, so they never deadlock.
        const rows = mergeDeltas(deltas).map((d) => ({
          name: d.name,
          requests: d.requests,
          errors: d.errors,
          tokens: d.tokens,
          last_used_at: d.lastUsedAt
        }))
        if (!Arr.isArrayNonEmpty(rows)) return Effect.void
        return sql`INSERT INTO key_usage ${sql.insert(rows)}
          ON CONFLICT (name) DO UPDATE SET
            requests = key_usage.requests + EXCLUDED.requests,
            errors = key_usage.errors + EXCLUDED.errors,
            tokens = key_usage.tokens + EXCLUDED.tokens,
            last_used_at = greatest(key_usage.last_used_at, EXCLUDED.last_used_at)`.pipe(Effect.asVoid, Effect.orDie)
      },
      usage: sql`SELECT name, requests, errors, tokens, last_used_at FROM key_usage ORDER BY name`.pipe(
        Effect.map((rows) => rows.map(usageFromRow)),
        Effect.orDie
      ),
      appendAudit: (event) =>
        sql`INSERT INTO audit_events ${sql.insert({
          at: event.at,
          action: event.action,
          actor: event.actor,
          target: event.target ?? null,
          request_id: event.requestId,
          details: event.details === undefined ? null : JSON.stringify(event.details)
        })}`.pipe(Effect.asVoid, Effect.orDie),
      listAudit: ({ offset, limit }) =>
        Effect.all({
          events: sql`SELECT at, action, actor, target, request_id, details FROM audit_events
                      ORDER BY id DESC LIMIT ${limit} OFFSET ${offset}`.pipe(
            Effect.map((rows) => rows.map(auditFromRow))
          ),
          total: sql<{ total: bigint }>`SELECT count(*) AS total FROM audit_events`.pipe(
            Effect.map((rows) => Number(rows[0]?.total ?? 0))
          )
        }).pipe(Effect.orDie)
    } satisfies KeyStore.KeyStoreShape
  })

/** The key store in the database `options` connect to, migrated at start; the pool closes with the layer. */
export const layer = (options: PgClient.PgPoolConfig): Layer.Layer<KeyStore.KeyStore> =>
  Layer.effect(KeyStore.KeyStore, Effect.andThen(migrate, make())).pipe(
    Layer.provide(PgClient.layer(options)),
    Layer.orDie
  )

/** {@link layer} connecting to `DATABASE_URL` (`postgres://user:password@host:port/database`). */
export const layerConfig: Layer.Layer<KeyStore.KeyStore, Config.ConfigError> = Layer.unwrap(
  // A server that does not accept a connection within 2 s counts as down: key lookups then answer
  // from the verified-key cache or with 503, instead of waiting on the pool.
  Effect.map(Config.Redacted("DATABASE_URL"), (url) => layer({ url, connectTimeout: "2 seconds" }))
)
