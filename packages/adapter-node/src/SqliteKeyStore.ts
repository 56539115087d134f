import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { DatabaseSync, type SQLInputValue } from "node:sqlite"
import { KeyStore, type Permissions } from "@lunarbit/gateway-core"
import { Config, Effect, Layer, type Scope } from "effect"

export interface Options {
  /** The database file; its directory is created. `:memory:` gives a private in-memory database. */
  readonly path: string
  /** How long a write waits for another process's lock before failing, in milliseconds. */
  readonly busyTimeoutMs?: number | undefined
}

/** One step of the schema, applied once in `migration_id` order. */
export interface Migration {
  readonly id: number
  readonly name: string
  readonly sql: string
}

/**
 * The gateway's SQLite schema: keys, usage and audit (1), download counts (2), rollout states (3). Timestamps are the
 * ISO 8601 strings of the port, stored verbatim so a round trip is exact and they sort as text.
 */
export const migrations: ReadonlyArray<Migration> = [
  {
    id: 1,
    name: "keys",
    sql: `
      CREATE TABLE api_keys (
        name TEXT PRIMARY KEY NOT NULL,
        description TEXT NOT NULL,
        hash TEXT NOT NULL,
        last4 TEXT NOT NULL,
        permissions TEXT NOT NULL,
        allowed_projects TEXT,
        tags TEXT NOT NULL,
        rate_limit INTEGER,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        revoked_at TEXT,
        previous_hash TEXT,
        previous_expires_at TEXT
      );
      CREATE INDEX api_keys_hash ON api_keys (hash);
      CREATE INDEX api_keys_previous_hash ON api_keys (previous_hash) WHERE previous_hash IS NOT NULL;
      CREATE TABLE key_usage (
        name TEXT PRIMARY KEY NOT NULL,
        requests INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        tokens INTEGER NOT NULL,
        last_used_at TEXT
      );
      CREATE TABLE audit_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        actor TEXT NOT NULL,
        target TEXT,
        request_id TEXT NOT NULL,
        details TEXT
      );
      -- Pruning old events and reading a period go by time; the listing itself goes by id.
      CREATE INDEX audit_events_at ON audit_events (at);
    `
  },
  {
    id: 2,
    name: "downloads",
    sql: "CREATE TABLE downloads (build TEXT PRIMARY KEY NOT NULL, count INTEGER NOT NULL);"
  },
  {
    id: 3,
    name: "rollouts",
    sql: `
      CREATE TABLE rollouts (
        project TEXT NOT NULL,
        channel TEXT NOT NULL,
        version TEXT NOT NULL,
        percentage INTEGER NOT NULL,
        paused INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        PRIMARY KEY (project, channel, version)
      );
    `
  }
]

/**
 * Applies the pending steps in one transaction and returns them. `BEGIN IMMEDIATE` takes the write
 * lock before the version is read, so processes opening a new database together apply each step once.
 * The table has the layout of the `effect/sql` migrator's, which `PgKeyStore` uses.
 */
export const migrate = (db: DatabaseSync, steps: ReadonlyArray<Migration> = migrations): ReadonlyArray<Migration> => {
  db.exec("BEGIN IMMEDIATE")
  try {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      migration_id INTEGER PRIMARY KEY NOT NULL,
      created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
      name TEXT NOT NULL
    )`)
    const latest = Number(db.prepare("SELECT max(migration_id) AS latest FROM schema_migrations").get()?.latest ?? 0)
    const pending = steps.filter((step) => step.id > latest).sort((a, b) => a.id - b.id)
    const record = db.prepare("INSERT INTO schema_migrations (migration_id, name) VALUES (?, ?)")
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

const keyColumns =
  "name, description, hash, last4, permissions, allowed_projects, tags, rate_limit, created_at, expires_at, revoked_at, previous_hash, previous_expires_at"

/** A key as the row values of `keyColumns`, in order; arrays become JSON text. */
export const keyValues = (key: KeyStore.StoredKey): Array<string | number | null> => [
  key.name,
  key.description,
  key.hash,
  key.last4,
  JSON.stringify(key.permissions),
  key.allowedProjects === undefined ? null : JSON.stringify(key.allowedProjects),
  JSON.stringify(key.tags),
  key.rateLimit ?? null,
  key.createdAt,
  key.expiresAt ?? null,
  key.revokedAt ?? null,
  key.previousHash ?? null,
  key.previousExpiresAt ?? null
]

const text = (value: unknown) => value as string

/** Decodes a row of `api_keys` (SQLite or PostgreSQL); a NULL column leaves its field absent. */
export const keyFromRow = (row: Record<string, unknown>): KeyStore.StoredKey => {
  const optional = <A>(value: unknown, decode: (value: unknown) => A) =>
    value === null || value === undefined ? undefined : decode(value)
  const allowedProjects = optional(row.allowed_projects, (v) => JSON.parse(text(v)) as ReadonlyArray<string>)
  const rateLimit = optional(row.rate_limit, Number)
  const expiresAt = optional(row.expires_at, text)
  const revokedAt = optional(row.revoked_at, text)
  const previousHash = optional(row.previous_hash, text)
  const previousExpiresAt = optional(row.previous_expires_at, text)
  return {
    name: text(row.name),
    description: text(row.description),
    hash: text(row.hash),
    last4: text(row.last4),
    permissions: JSON.parse(text(row.permissions)) as ReadonlyArray<Permissions.Permission>,
    ...(allowedProjects === undefined ? {} : { allowedProjects }),
    tags: JSON.parse(text(row.tags)) as ReadonlyArray<string>,
    ...(rateLimit === undefined ? {} : { rateLimit }),
    createdAt: text(row.created_at),
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(revokedAt === undefined ? {} : { revokedAt }),
    ...(previousHash === undefined ? {} : { previousHash }),
    ...(previousExpiresAt === undefined ? {} : { previousExpiresAt })
  }
}

/** Decodes a row of `key_usage`; PostgreSQL's bigint counters arrive as `bigint`. */
export const usageFromRow = (row: Record<string, unknown>): KeyStore.KeyUsage => ({
  name: text(row.name),
  requests: Number(row.requests),
  errors: Number(row.errors),
  tokens: Number(row.tokens),
  ...(row.last_used_at === null || row.last_used_at === undefined ? {} : { lastUsedAt: text(row.last_used_at) })
})

/** Decodes a row of `audit_events`. */
export const auditFromRow = (row: Record<string, unknown>): KeyStore.AuditEvent => ({
  at: text(row.at),
  action: text(row.action) as KeyStore.AuditEvent["action"],
  actor: text(row.actor),
  ...(row.target === null || row.target === undefined ? {} : { target: text(row.target) }),
  requestId: text(row.request_id),
  ...(row.details === null || row.details === undefined ? {} : { details: JSON.parse(text(row.details)) })
})

/** The later of two ISO 8601 timestamps, compared as text the way the databases compare them. */
const later = (a: string, b: string) => [a, b].sort()[1] ?? a

/** The usage deltas with one entry per name (sorted), so a batch is one upsert per row it touches. */
export const mergeDeltas = (deltas: ReadonlyArray<KeyStore.UsageDelta>): ReadonlyArray<KeyStore.UsageDelta> => {
  const merged = new Map<string, KeyStore.UsageDelta>()
  for (const delta of deltas) {
    const current = merged.get(delta.name)
    merged.set(
      delta.name,
      current === undefined
        ? delta
        : {
            name: delta.name,
            requests: current.requests + delta.requests,
            errors: current.errors + delta.errors,
            tokens: current.tokens + delta.tokens,
            lastUsedAt: later(current.lastUsedAt, delta.lastUsedAt)
          }
    )
  }
  return [...merged.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

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
  const byName = db.prepare(`SELECT ${keyColumns} FROM api_keys WHERE name = ?`)
  const byHash = db.prepare(`SELECT ${keyColumns} FROM api_keys WHERE hash = ? OR previous_hash = ?`)
  const all = db.prepare(`SELECT ${keyColumns} FROM api_keys ORDER BY created_at, name`)
  const insert = db.prepare(
    `INSERT INTO api_keys (${keyColumns}) VALUES (${keyColumns.split(",").fill("?").join(", ")})
     ON CONFLICT (name) DO NOTHING`
  )
  const revoke = db.prepare("UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE name = ?")
  // SET expressions read the row as it was, so `previous_hash = hash` keeps the replaced hash.
  const rotate = db.prepare(
    `UPDATE api_keys SET previous_hash = hash, hash = ?, last4 = ?, previous_expires_at = ? WHERE name = ?
     RETURNING ${keyColumns}`
  )
  const addUsage = db.prepare(
    `INSERT INTO key_usage (name, requests, errors, tokens, last_used_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET
       requests = requests + excluded.requests,
       errors = errors + excluded.errors,
       tokens = tokens + excluded.tokens,
       last_used_at = max(coalesce(last_used_at, ''), excluded.last_used_at)`
  )
  const usage = db.prepare("SELECT name, requests, errors, tokens, last_used_at FROM key_usage ORDER BY name")
  const appendAudit = db.prepare(
    "INSERT INTO audit_events (at, action, actor, target, request_id, details) VALUES (?, ?, ?, ?, ?, ?)"
  )
  const auditPage = db.prepare(
    "SELECT at, action, actor, target, request_id, details FROM audit_events ORDER BY id DESC LIMIT ? OFFSET ?"
  )
  const auditTotal = db.prepare("SELECT count(*) AS total FROM audit_events")

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
        insert.run(...keyValues(key)).changes === 0 ? Effect.fail(new KeyStore.DuplicateKeyName(key.name)) : Effect.void
      ),
    revoke: (name, at) => Effect.sync(() => revoke.run(at, name).changes > 0),
    rotate: (name, rotation) =>
      Effect.sync(() => {
        const row = rotate.get(rotation.hash, rotation.last4, rotation.previousExpiresAt, name)
        return row === undefined ? undefined : keyFromRow(row)
      }),
    recordUsage: (deltas) =>
      Effect.sync(() => {
        const merged = mergeDeltas(deltas)
        if (merged.length === 0) return
        transaction(db, () => {
          for (const d of merged) addUsage.run(d.name, d.requests, d.errors, d.tokens, d.lastUsedAt)
        })
      }),
    usage: Effect.sync(() => usage.all().map(usageFromRow)),
    appendAudit: (event) =>
      Effect.sync(() => {
        const values: Array<SQLInputValue> = [
          event.at,
          event.action,
          event.actor,
          event.target ?? null,
          event.requestId,
          event.details === undefined ? null : JSON.stringify(event.details)
        ]
        appendAudit.run(...values)
      }),
    listAudit: ({ offset, limit }) =>
      Effect.sync(() => ({
        events: auditPage.all(limit, offset).map(auditFromRow),
        total: Number(auditTotal.get()?.total ?? 0)
      }))
  }
}

/** The settings read from configuration: `DATABASE_PATH` and `SQLITE_BUSY_TIMEOUT` (ms). */
export const config: Config.Config<Options> = Config.all({
  path: Config.String("DATABASE_PATH").pipe(Config.withDefault(".lunarbit/gateway.db")),
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
