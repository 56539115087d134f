import type { DatabaseSync } from "node:sqlite"
import { RolloutStore } from "@lunarbit/gateway-core"
import { type Config, Effect, Layer } from "effect"
import * as SqliteKeyStore from "./SqliteKeyStore.ts"

/** A `rollouts` row as the port's record; SQLite keeps booleans as 0 and 1. */
export const fromRow = (row: Record<string, unknown>): RolloutStore.StoredRollout => ({
  project: String(row.project),
  channel: String(row.channel),
  version: String(row.version),
  percentage: Number(row.percentage),
  paused: row.paused === true || Number(row.paused) === 1,
  updatedAt: String(row.updated_at),
  updatedBy: String(row.updated_by)
})

/**
 * Rollout states in the `rollouts` table of an open, migrated database. Every read goes to the file,
 * so processes sharing it see a change on their next update check.
 */
export const make = (db: DatabaseSync): RolloutStore.RolloutStoreShape => {
  const select = db.prepare(
    "SELECT project, channel, version, percentage, paused, updated_at, updated_by FROM rollouts WHERE project = ? AND channel = ?"
  )
  const upsert = db.prepare(
    `INSERT INTO rollouts (project, channel, version, percentage, paused, updated_at, updated_by)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (project, channel, version) DO UPDATE SET
       percentage = excluded.percentage, paused = excluded.paused,
       updated_at = excluded.updated_at, updated_by = excluded.updated_by`
  )
  return {
    forChannel: (project, channel) =>
      Effect.sync(() => new Map(select.all(project, channel).map((row) => [String(row.version), fromRow(row)]))),
    put: (r) =>
      Effect.sync(() => {
        upsert.run(r.project, r.channel, r.version, r.percentage, r.paused ? 1 : 0, r.updatedAt, r.updatedBy)
      })
  }
}

/** Rollout states in the SQLite database at `options.path` (the key store's), open for the layer's lifetime. */
export const layer = (options: SqliteKeyStore.Options): Layer.Layer<RolloutStore.RolloutStore> =>
  Layer.effect(RolloutStore.RolloutStore, Effect.map(SqliteKeyStore.open(options), make))

/** {@link layer} with the database of `SqliteKeyStore.config`. */
export const layerConfig: Layer.Layer<RolloutStore.RolloutStore, Config.ConfigError> = Layer.unwrap(
  Effect.map(SqliteKeyStore.config, layer)
)
