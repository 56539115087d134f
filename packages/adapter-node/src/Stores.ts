import { type DownloadStore, type KeyStore, RateLimitStore, type RolloutStore } from "@lunarbit/gateway-core"
import { Config, Effect, Layer, Option } from "effect"
import * as SqliteDownloadStore from "./SqliteDownloadStore.ts"
import * as SqliteKeyStore from "./SqliteKeyStore.ts"
import * as SqliteRolloutStore from "./SqliteRolloutStore.ts"

/** Which implementation of each store the configuration selects. */
export interface Selection {
  readonly keys: "postgresql" | "sqlite"
  readonly downloads: "sqlite"
  readonly rateLimits: "redis" | "memory"
}

/** `DATABASE_URL` and `REDIS_URL` decide; everything else each store reads for itself. */
export const selection: Config.Config<Selection> = Config.all({
  keys: Config.option(Config.Redacted("DATABASE_URL")).pipe(
    Config.map(Option.match({ onNone: () => "sqlite" as const, onSome: () => "postgresql" as const }))
  ),
  downloads: Config.succeed("sqlite" as const),
  rateLimits: Config.option(Config.Redacted("REDIS_URL")).pipe(
    Config.map(Option.match({ onNone: () => "memory" as const, onSome: () => "redis" as const }))
  )
})

/**
 * The stores of the Node adapter, chosen by configuration:
 *
 * - keys, usage, audit and rollout states: PostgreSQL at `DATABASE_URL` when set, shared by every gateway instance;
 *   otherwise the SQLite file at `DATABASE_PATH` (`gateway.db` in `LUNARBIT_STATE_DIR`), for one machine.
 * - rate limits: Redis at `REDIS_URL` when set, exact across instances; otherwise in memory, exact
 *   within the process (each instance then enforces its own limits).
 * - download counts: always the SQLite file at `DATABASE_PATH`. They are answered from memory and
 *   written behind, so they cost a request nothing; with several instances each keeps and reports
 *   its own counts (give each its own file, or one shared volume on one host).
 */
export const layerConfig: Layer.Layer<
  KeyStore.KeyStore | RateLimitStore.RateLimitStore | DownloadStore.DownloadStore | RolloutStore.RolloutStore,
  Config.ConfigError
> = Layer.unwrap(
  Effect.gen(function* () {
    const selected = yield* selection
    yield* Effect.logInfo("Stores", selected)
    // PostgreSQL's and Redis's clients are loaded only when selected: a gateway on SQLite and
    // memory never holds their code (about 6 MiB of resident memory).
    const [pgKeys, pgRollouts] =
      selected.keys === "postgresql"
        ? yield* Effect.promise(() => Promise.all([import("./PgKeyStore.ts"), import("./PgRolloutStore.ts")]))
        : []
    const redis =
      selected.rateLimits === "redis" ? yield* Effect.promise(() => import("./RedisRateLimitStore.ts")) : undefined
    return Layer.mergeAll(
      pgKeys?.layerConfig ?? SqliteKeyStore.layerConfig,
      pgRollouts?.layerConfig ?? SqliteRolloutStore.layerConfig,
      SqliteDownloadStore.layerConfig,
      redis?.layerConfig ?? RateLimitStore.layerMemory
    )
  })
)
