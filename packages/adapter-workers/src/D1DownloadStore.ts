import { DownloadStore, SqlStores } from "@lunarbit/gateway-core"
import { Effect } from "effect"
import type { D1Database } from "./Cloudflare.ts"
import { migrated } from "./D1KeyStore.ts"

/** A download store and the flush that writes what it recorded. */
export interface D1DownloadStore {
  readonly store: DownloadStore.DownloadStoreShape
  /** Adds the downloads recorded since the last flush to D1, in one batch; run it after the response. */
  readonly flush: Effect.Effect<void>
}

/**
 * Download counts in the `downloads` table of a D1 database, shared by every isolate: `record`
 * only counts in memory, so a download never waits on D1, and the Worker runs `flush` after the
 * response (`ctx.waitUntil`) rather than on a timer, which a Worker does not keep between requests.
 * `counts` reads the table, plus what this isolate has not written yet. A failed write keeps its
 * counts for the next flush.
 */
export const make = (db: D1Database): D1DownloadStore => {
  const query = migrated(db)
  let pending = new Map<string, number>()

  const add = (into: Map<string, number>, from: ReadonlyMap<string, number>) => {
    for (const [build, count] of from) into.set(build, (into.get(build) ?? 0) + count)
  }

  const flush = Effect.suspend(() => {
    if (pending.size === 0) return Effect.void
    const batch = pending
    pending = new Map()
    return query(() =>
      db.batch([...batch].map(([build, count]) => db.prepare(SqlStores.statements.addDownloads).bind(build, count)))
    ).pipe(
      Effect.asVoid,
      Effect.catchCause((cause) =>
        Effect.sync(() => add(pending, batch)).pipe(
          Effect.andThen(Effect.logWarning("Could not write download counts; they are kept for the next try", cause))
        )
      )
    )
  })

  return {
    store: {
      record: (ref) =>
        Effect.sync(() => {
          const build = DownloadStore.keyOf(ref)
          pending.set(build, (pending.get(build) ?? 0) + 1)
        }),
      counts: Effect.map(
        query(() => db.prepare(SqlStores.statements.downloads).all<{ build: string; count: number }>()),
        ({ results }) => {
          const counts = new Map(results.map((row) => [row.build, Number(row.count)] as const))
          add(counts, pending)
          return counts
        }
      )
    },
    flush
  }
}
