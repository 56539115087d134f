import type { Permission } from "../access/domain/Permissions.ts"
import type { AuditEvent, KeyUsage, StoredKey, UsageDelta } from "../access/ports/KeyStore.ts"

/**
 * The SQL the gateway's SQLite-dialect stores share (the Node adapter's SQLite file and the Workers
 * adapter's D1 database), as plain strings: the schema's migrations, the statements, and the row
 * codecs (which PostgreSQL's store uses too). Each adapter only runs them with its own driver.
 */

/** One step of the schema, applied once in `id` order. */
export interface Migration {
  readonly id: number
  readonly name: string
  readonly sql: string
}

/**
 * The schema: keys, usage and audit (1), download counts (2), key creators (3), rollout states (4). Timestamps are the ISO 8601 strings
 * of the port, stored verbatim so a round trip is exact and they sort as text.
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
    name: "key_creators",
    // Which key created each key: a key may act only on the keys it created. NULL: the admin's.
    sql: "ALTER TABLE api_keys ADD COLUMN created_by TEXT;"
  },
  {
    id: 4,
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
 * A migration's statements one by one, for drivers that run a batch of single statements (D1):
 * comment lines dropped, split at the semicolons that end a line.
 */
export const statementsOf = (migration: Migration): ReadonlyArray<string> =>
  migration.sql
    .split("\n")
    .filter((line) => !line.trim().startsWith("--"))
    .join("\n")
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0)

/** The table of applied steps, in the layout of the `effect/sql` migrator's, which `PgKeyStore` uses. */
export const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
  migration_id INTEGER PRIMARY KEY NOT NULL,
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  name TEXT NOT NULL
)`
export const latestMigration = "SELECT max(migration_id) AS latest FROM schema_migrations"
export const recordMigration = "INSERT INTO schema_migrations (migration_id, name) VALUES (?, ?)"

/** The steps after `latest`, in order. */
export const pendingMigrations = (latest: number, steps: ReadonlyArray<Migration> = migrations) =>
  steps.filter((step) => step.id > latest).sort((a, b) => a.id - b.id)

export const keyColumns =
  "name, description, hash, last4, permissions, allowed_projects, tags, rate_limit, created_at, expires_at, revoked_at, previous_hash, previous_expires_at, created_by"

/** The key store's statements, with `?` placeholders in the order the comments give. */
export const statements = {
  /** name */
  keyByName: `SELECT ${keyColumns} FROM api_keys WHERE name = ?`,
  /** hash, hash */
  keysByHash: `SELECT ${keyColumns} FROM api_keys WHERE hash = ? OR previous_hash = ?`,
  allKeys: `SELECT ${keyColumns} FROM api_keys ORDER BY created_at, name`,
  /** `keyValues(key)`; changes nothing when the name is taken. */
  insertKey: `INSERT INTO api_keys (${keyColumns}) VALUES (${keyColumns.split(",").fill("?").join(", ")})
     ON CONFLICT (name) DO NOTHING`,
  /** at, name */
  revokeKey: "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE name = ?",
  /** hash, last4, previous_expires_at, name. SET expressions read the row as it was, so `previous_hash = hash` keeps the replaced hash. */
  rotateKey: `UPDATE api_keys SET previous_hash = hash, hash = ?, last4 = ?, previous_expires_at = ? WHERE name = ?
     RETURNING ${keyColumns}`,
  /** name, requests, errors, tokens, last_used_at */
  addUsage: `INSERT INTO key_usage (name, requests, errors, tokens, last_used_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET
       requests = requests + excluded.requests,
       errors = errors + excluded.errors,
       tokens = tokens + excluded.tokens,
       last_used_at = max(coalesce(last_used_at, ''), excluded.last_used_at)`,
  usage: "SELECT name, requests, errors, tokens, last_used_at FROM key_usage ORDER BY name",
  /** `auditValues(event)` */
  appendAudit: "INSERT INTO audit_events (at, action, actor, target, request_id, details) VALUES (?, ?, ?, ?, ?, ?)",
  /** limit, offset */
  auditPage:
    "SELECT at, action, actor, target, request_id, details FROM audit_events ORDER BY id DESC LIMIT ? OFFSET ?",
  auditTotal: "SELECT count(*) AS total FROM audit_events",
  /** build, count */
  addDownloads:
    "INSERT INTO downloads (build, count) VALUES (?, ?) ON CONFLICT (build) DO UPDATE SET count = count + excluded.count",
  downloads: "SELECT build, count FROM downloads"
} as const

/** A key as the row values of `keyColumns`, in order; arrays become JSON text. */
export const keyValues = (key: StoredKey): Array<string | number | null> => [
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
  key.previousExpiresAt ?? null,
  key.createdBy ?? null
]

/** An audit event as the values of `statements.appendAudit`, in order. */
export const auditValues = (event: AuditEvent): Array<string | null> => [
  event.at,
  event.action,
  event.actor,
  event.target ?? null,
  event.requestId,
  event.details === undefined ? null : JSON.stringify(event.details)
]

const text = (value: unknown) => value as string

/** Decodes a row of `api_keys` (SQLite, D1 or PostgreSQL); a NULL column leaves its field absent. */
export const keyFromRow = (row: Record<string, unknown>): StoredKey => {
  const optional = <A>(value: unknown, decode: (value: unknown) => A) =>
    value === null || value === undefined ? undefined : decode(value)
  const allowedProjects = optional(row.allowed_projects, (v) => JSON.parse(text(v)) as ReadonlyArray<string>)
  const rateLimit = optional(row.rate_limit, Number)
  const createdBy = optional(row.created_by, text)
  const expiresAt = optional(row.expires_at, text)
  const revokedAt = optional(row.revoked_at, text)
  const previousHash = optional(row.previous_hash, text)
  const previousExpiresAt = optional(row.previous_expires_at, text)
  return {
    name: text(row.name),
    description: text(row.description),
    hash: text(row.hash),
    last4: text(row.last4),
    permissions: JSON.parse(text(row.permissions)) as ReadonlyArray<Permission>,
    ...(allowedProjects === undefined ? {} : { allowedProjects }),
    tags: JSON.parse(text(row.tags)) as ReadonlyArray<string>,
    ...(rateLimit === undefined ? {} : { rateLimit }),
    ...(createdBy === undefined ? {} : { createdBy }),
    createdAt: text(row.created_at),
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(revokedAt === undefined ? {} : { revokedAt }),
    ...(previousHash === undefined ? {} : { previousHash }),
    ...(previousExpiresAt === undefined ? {} : { previousExpiresAt })
  }
}

/** Decodes a row of `key_usage`; PostgreSQL's bigint counters arrive as `bigint`. */
export const usageFromRow = (row: Record<string, unknown>): KeyUsage => ({
  name: text(row.name),
  requests: Number(row.requests),
  errors: Number(row.errors),
  tokens: Number(row.tokens),
  ...(row.last_used_at === null || row.last_used_at === undefined ? {} : { lastUsedAt: text(row.last_used_at) })
})

/** Decodes a row of `audit_events`. */
export const auditFromRow = (row: Record<string, unknown>): AuditEvent => ({
  at: text(row.at),
  action: text(row.action) as AuditEvent["action"],
  actor: text(row.actor),
  ...(row.target === null || row.target === undefined ? {} : { target: text(row.target) }),
  requestId: text(row.request_id),
  ...(row.details === null || row.details === undefined ? {} : { details: JSON.parse(text(row.details)) })
})

/** The later of two ISO 8601 timestamps, compared as text the way the databases compare them. */
const later = (a: string, b: string) => [a, b].sort()[1] ?? a

/** The usage deltas with one entry per name (sorted), so a batch is one upsert per row it touches. */
export const mergeDeltas = (deltas: ReadonlyArray<UsageDelta>): ReadonlyArray<UsageDelta> => {
  const merged = new Map<string, UsageDelta>()
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
