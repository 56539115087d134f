import { createHmac, randomBytes } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { GatewayConfig } from "@lunarbit/gateway-core"
import { Config, ConfigProvider, Effect, Layer, Option, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import * as StateDir from "./StateDir.ts"
import * as Stores from "./Stores.ts"

/**
 * The secret API keys are hashed under belongs to the key store, not to the admin key: changing
 * it makes every stored key unknown. So the store keeps it: a random secret generated on first
 * start (in a file beside the SQLite database, mode 0600, or in PostgreSQL when the store is
 * shared), or, when `KEY_HASH_SECRET` is configured, a fingerprint of it, so a different one
 * later is refused at start rather than silently locking every key out.
 */
type Kept =
  | { readonly kind: "generated"; readonly secret: string }
  | { readonly kind: "fingerprint"; readonly fingerprint: string }

const encode = (kept: Kept) =>
  kept.kind === "generated" ? `generated:${kept.secret}` : `fingerprint:${kept.fingerprint}`

const decode = (text: string): Kept | undefined => {
  const [kind, value] = text.trim().split(":", 2)
  if (value === undefined || value === "") return undefined
  return kind === "generated"
    ? { kind, secret: value }
    : kind === "fingerprint"
      ? { kind, fingerprint: value }
      : undefined
}

const fingerprint = (secret: string) =>
  createHmac("sha256", secret).update("lunarbit-gateway key hash secret").digest("hex")

/** Where a store keeps its secret: `claim` returns what is kept, writing `fresh(hasKeys)` when nothing is. */
interface Keeper {
  readonly where: string
  readonly claim: (fresh: (hasKeys: boolean) => Kept) => Effect.Effect<Kept, Error>
}

const fileKeeper = (database: string): Keeper => {
  const file = `${database}.key-hash-secret`
  const read = () => (existsSync(file) ? decode(readFileSync(file, "utf8")) : undefined)
  const hasKeys = () => {
    if (!existsSync(database)) return false
    const db = new DatabaseSync(database, { readOnly: true })
    try {
      return Number(db.prepare("SELECT count(*) AS n FROM api_keys").get()?.n ?? 0) > 0
    } catch {
      return false // no keys table yet
    } finally {
      db.close()
    }
  }
  return {
    where: database,
    claim: (fresh) =>
      Effect.try({
        try: () => {
          const kept = read()
          if (kept !== undefined) return kept
          mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
          try {
            // `wx`: another process starting on the same file at the same moment keeps its own.
            writeFileSync(file, `${encode(fresh(hasKeys()))}\n`, { mode: 0o600, flag: "wx" })
          } catch (error) {
            if ((error as { code?: string }).code !== "EEXIST") throw error
          }
          return read()!
        },
        catch: (error) => new Error(`Cannot keep the key hashing secret in ${file}: ${String(error)}`)
      })
  }
}

// Instances starting together against a new database agree on one secret: the first one's.
const pgKeeper = (url: Redacted.Redacted<string>): Keeper => ({
  where: "PostgreSQL",
  claim: (fresh) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      return yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* sql`SELECT pg_advisory_xact_lock(7417135)`
          yield* sql`CREATE TABLE IF NOT EXISTS key_hash_secret (
            id integer PRIMARY KEY CHECK (id = 1),
            value text NOT NULL
          )`
          const rows = yield* sql<{ value: string }>`SELECT value FROM key_hash_secret WHERE id = 1`
          const existing = rows[0] === undefined ? undefined : decode(rows[0].value)
          if (existing !== undefined) return existing
          const tables = yield* sql<{ present: boolean }>`SELECT to_regclass('api_keys') IS NOT NULL AS present`
          const counted = tables[0]?.present ? yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM api_keys` : []
          const kept = fresh((counted[0]?.n ?? 0) > 0)
          yield* sql`INSERT INTO key_hash_secret (id, value) VALUES (1, ${encode(kept)})`
          return kept
        })
      )
    }).pipe(
      Effect.scoped,
      // The driver loads here, only for a store in PostgreSQL (see Stores.ts).
      Effect.provide(
        Layer.unwrap(
          Effect.promise(() => import("@effect/sql-pg")).pipe(
            Effect.map(({ PgClient }) => PgClient.layer({ url, maxConnections: 1 }))
          )
        )
      ),
      Effect.mapError((error) => new Error(`Cannot keep the key hashing secret in PostgreSQL: ${String(error)}`))
    )
})

/** The secret the store's keys are hashed with, given the configured secret and admin key. */
const resolve = (keeper: Keeper, configured: string | undefined, adminKey: string | undefined) =>
  Effect.gen(function* () {
    let adopted = false
    const kept = yield* keeper.claim((hasKeys) => {
      if (configured !== undefined) return { kind: "fingerprint", fingerprint: fingerprint(configured) }
      // Keys stored before the secret was kept were hashed under the admin key (the old default).
      if (hasKeys && adminKey !== undefined) {
        adopted = true
        return { kind: "fingerprint", fingerprint: fingerprint(adminKey) }
      }
      return { kind: "generated", secret: randomBytes(32).toString("base64url") }
    })
    if (adopted) {
      yield* Effect.logWarning(
        `The keys in ${keeper.where} are hashed under the admin key: set KEY_HASH_SECRET to the current admin key before changing API_KEY_ADMIN`
      )
    }
    if (kept.kind === "generated") {
      if (configured === undefined || configured === kept.secret) return kept.secret
    } else {
      // Unset, the old default (the admin key) may still be the secret the keys were stored with.
      const candidate = configured ?? adminKey
      if (candidate !== undefined && fingerprint(candidate) === kept.fingerprint) return candidate
      if (configured === undefined) {
        return yield* Effect.fail(
          new Error(
            `The keys in ${keeper.where} were stored with a KEY_HASH_SECRET that is not set now: set it again (every stored key would be refused without it)`
          )
        )
      }
    }
    return yield* Effect.fail(
      new Error(
        `KEY_HASH_SECRET does not match the secret the keys in ${keeper.where} were stored with: every stored key would be refused. Set the original secret, or unset KEY_HASH_SECRET if the gateway generated it`
      )
    )
  })

/**
 * `provider` with `KEY_HASH_SECRET` set to the secret the selected key store is hashed with; fails,
 * refusing the start, when the configured secret is not that one. A `:memory:` database keeps
 * nothing, so its keys are hashed under a secret of the process.
 */
export const provide = (provider: ConfigProvider.ConfigProvider) =>
  Effect.gen(function* () {
    const config = yield* GatewayConfig.config.parse(provider)
    const selected = yield* Stores.selection.parse(provider)
    const configured = Option.getOrUndefined(Option.map(config.keyHashSecret, Redacted.value))
    const adminKey = Option.getOrUndefined(Option.map(config.adminKey, Redacted.value))
    let secret: string
    if (selected.keys === "postgresql") {
      const url = yield* Config.Redacted("DATABASE_URL").parse(provider)
      secret = yield* resolve(pgKeeper(url), configured, adminKey)
    } else {
      const database = yield* StateDir.databasePath.parse(provider)
      secret =
        database === ":memory:"
          ? (configured ?? randomBytes(32).toString("base64url"))
          : yield* resolve(fileKeeper(database), configured, adminKey)
    }
    return ConfigProvider.orElse(ConfigProvider.fromUnknown({ KEY_HASH_SECRET: secret }), provider)
  })
