import type { DatabaseSync } from "node:sqlite"
import { DownloadStore, SqlStores } from "@lunarbit/gateway-core"
import { Config, Duration, Effect, Layer, Schedule, type Scope, Semaphore } from "effect"
import * as SqliteKeyStore from "./SqliteKeyStore.ts"

/** Where the counts live between runs: read once at start, then added to in batches. */
export interface Persistence {
  readonly load: Effect.Effect<Iterable<readonly [string, number]>>
  /** Adds `batch` (counts by build) to what is stored; may fail or be slow. */
  readonly add: (batch: ReadonlyMap<string, number>) => Effect.Effect<void, unknown>
}

/** One batch per interval however busy, and no write when idle: a crash loses at most this much. */
export const defaultFlushInterval = Duration.millis(100)

export interface Options {
  /** The database file shared with `SqliteKeyStore`. */
  readonly path: string
  readonly busyTimeoutMs?: number | undefined
  /** How often recorded downloads are written; 100 ms by default, which bounds what a crash loses. */
  readonly flushInterval?: Duration.Input | undefined
}

/** The `downloads` table of an open, migrated database as a {@link Persistence}. */
export const sqlitePersistence = (db: DatabaseSync): Persistence => {
  // \`node:sqlite\` waits for a lock synchronously, holding up the whole event loop: this connection
  // gives up almost at once instead, and the batch waits for the next flush.
  db.exec("PRAGMA busy_timeout = 50")
  const add = db.prepare(SqlStores.statements.addDownloads)
  return {
    load: Effect.sync(() =>
      db
        .prepare(SqlStores.statements.downloads)
        .all()
        .map((row) => [row.build as string, Number(row.count)] as const)
    ),
    add: (batch) =>
      Effect.try(() => {
        db.exec("BEGIN IMMEDIATE")
        try {
          for (const [build, count] of batch) add.run(build, count)
          db.exec("COMMIT")
        } catch (error) {
          db.exec("ROLLBACK")
          throw error
        }
      })
  }
}

/**
 * Download counts answered from memory and written behind: `record` only touches memory, so a
 * request never waits on the disk; a fiber writes what was recorded since the last write every
 * `flushInterval`, and once more when the scope closes. A write that fails puts its batch back, to
 * be written with the next one. Writes never overlap, so a batch is never counted twice.
 */
export const make = (
  persistence: Persistence,
  options: { readonly flushInterval?: Duration.Input | undefined } = {}
): Effect.Effect<DownloadStore.DownloadStoreShape, never, Scope.Scope> =>
  Effect.gen(function* () {
    const counts = new Map<string, number>(yield* persistence.load)
    let pending = new Map<string, number>()
    const writing = yield* Semaphore.make(1)

    const putBack = (batch: ReadonlyMap<string, number>) => {
      for (const [build, count] of batch) pending.set(build, (pending.get(build) ?? 0) + count)
    }

    // Uninterruptible from the swap to the write's end, so closing the scope mid-write never loses a batch.
    const flush = Effect.uninterruptible(
      writing.withPermits(1)(
        Effect.suspend(() => {
          if (pending.size === 0) return Effect.void
          const batch = pending
          pending = new Map()
          return persistence
            .add(batch)
            .pipe(
              Effect.catchCause((cause) =>
                Effect.sync(() => putBack(batch)).pipe(
                  Effect.andThen(
                    Effect.logWarning("Could not write download counts; they are kept for the next try", cause)
                  )
                )
              )
            )
        })
      )
    )

    yield* Effect.addFinalizer(() => flush)
    yield* Effect.forkScoped(Effect.repeat(flush, Schedule.spaced(options.flushInterval ?? defaultFlushInterval)))

    return {
      record: (ref) =>
        Effect.sync(() => {
          const key = DownloadStore.keyOf(ref)
          counts.set(key, (counts.get(key) ?? 0) + 1)
          pending.set(key, (pending.get(key) ?? 0) + 1)
        }),
      // The live map, settled: catalog reads that show counts need no fiber.
      counts: Effect.succeed(counts)
    }
  })

/** The settings read from configuration: the database of `SqliteKeyStore.config` and `DOWNLOADS_FLUSH_INTERVAL`. */
export const config: Config.Config<Options> = Config.all({
  database: SqliteKeyStore.config,
  flushInterval: Config.Duration("DOWNLOADS_FLUSH_INTERVAL").pipe(Config.withDefault(defaultFlushInterval))
}).pipe(Config.map(({ database, flushInterval }) => ({ ...database, flushInterval })))

/** Download counts in the SQLite database at `options.path`, written behind while the layer lives. */
export const layer = (options: Options): Layer.Layer<DownloadStore.DownloadStore> =>
  Layer.effect(
    DownloadStore.DownloadStore,
    Effect.flatMap(SqliteKeyStore.open(options), (db) =>
      make(sqlitePersistence(db), { flushInterval: options.flushInterval })
    )
  )

/** {@link layer} with its settings from {@link config}. */
export const layerConfig: Layer.Layer<DownloadStore.DownloadStore, Config.ConfigError> = Layer.unwrap(
  Effect.map(config, layer)
)
