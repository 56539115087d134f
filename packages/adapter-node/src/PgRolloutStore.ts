import { PgClient } from "@effect/sql-pg"
import { RolloutStore } from "@lunarbit/gateway-core"
import { Config, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { migrate } from "./PgKeyStore.ts"
import { fromRow } from "./SqliteRolloutStore.ts"

/**
 * Rollout states in the `rollouts` table of the key store's database. Every read is a query, so all
 * instances sharing the database see a change on their next update check.
 */
export const make: Effect.Effect<RolloutStore.RolloutStoreShape, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return {
    forChannel: (project, channel) =>
      sql`SELECT project, channel, version, percentage, paused, updated_at, updated_by FROM rollouts
            WHERE project = ${project} AND channel = ${channel}`.pipe(
        Effect.map((rows) => new Map(rows.map((row) => [String(row.version), fromRow(row)]))),
        Effect.orDie
      ),
    put: (r) =>
      sql`INSERT INTO rollouts ${sql.insert({
        project: r.project,
        channel: r.channel,
        version: r.version,
        percentage: r.percentage,
        paused: r.paused,
        updated_at: r.updatedAt,
        updated_by: r.updatedBy
      })}
        ON CONFLICT (project, channel, version) DO UPDATE SET
          percentage = EXCLUDED.percentage, paused = EXCLUDED.paused,
          updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`.pipe(Effect.asVoid, Effect.orDie)
  }
})

/** Rollout states in the database `options` connect to, migrated at start; the pool closes with the layer. */
export const layer = (options: PgClient.PgPoolConfig): Layer.Layer<RolloutStore.RolloutStore> =>
  Layer.effect(RolloutStore.RolloutStore, Effect.andThen(migrate, make)).pipe(
    Layer.provide(PgClient.layer(options)),
    Layer.orDie
  )

/** {@link layer} connecting to `DATABASE_URL`. */
export const layerConfig: Layer.Layer<RolloutStore.RolloutStore, Config.ConfigError> = Layer.unwrap(
  Effect.map(Config.Redacted("DATABASE_URL"), (url) => layer({ url }))
)
