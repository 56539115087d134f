import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { DownloadStore } from "@lunarbit/gateway-core"
import { Context, Deferred, Effect, Layer, Logger } from "effect"
import * as SqliteDownloadStore from "../../src/SqliteDownloadStore.ts"

const dir = mkdtempSync(join(tmpdir(), "lunarbit-sqlite-downloads-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const freshPath = () => join(dir, `db${++files}`, "gateway.db")

const build = (n: number): DownloadStore.BuildRef => ({
  project: "trackly",
  channel: "stable",
  version: "1.0.0",
  build: `b${n}`
})
const keyOf = (n: number) => DownloadStore.keyOf(build(n))

/** What the database holds, read on a connection of its own. */
const stored = (path: string) => {
  const db = new DatabaseSync(path, { readOnly: true })
  try {
    return new Map(
      db
        .prepare("SELECT build, count FROM downloads")
        .all()
        .map((r) => [r.build as string, Number(r.count)])
    )
  } finally {
    db.close()
  }
}

/** The store of `layer`, built in the current scope: it lives (and flushes) until that scope closes. */
const storeIn = (layer: Layer.Layer<DownloadStore.DownloadStore>) =>
  Effect.map(Layer.build(layer), (context) => Context.get(context, DownloadStore.DownloadStore))

const quiet = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, Logger.layer([]))

const recordAll = (store: DownloadStore.DownloadStoreShape, refs: ReadonlyArray<number>) =>
  Effect.forEach(refs, (n) => store.record(build(n)), { discard: true })

/** A persistence kept in memory whose `add` the test controls. */
const controlledPersistence = (add: (batch: ReadonlyMap<string, number>) => Effect.Effect<void, unknown>) => {
  const written = new Map<string, number>()
  const persistence: SqliteDownloadStore.Persistence = {
    load: Effect.succeed([]),
    add: (batch) =>
      Effect.tap(add(batch), () =>
        Effect.sync(() => {
          for (const [k, v] of batch) written.set(k, (written.get(k) ?? 0) + v)
        })
      )
  }
  return { persistence, written }
}

describe("SqliteDownloadStore", () => {
  it.live("answers from memory at once and writes behind, flushing what is left when the scope closes", () =>
    quiet(
      Effect.gen(function* () {
        const path = freshPath()
        yield* Effect.scoped(
          Effect.gen(function* () {
            // An interval far beyond the test: only the close can write.
            const store = yield* storeIn(SqliteDownloadStore.layer({ path, flushInterval: "1 hour" }))
            yield* recordAll(store, [1, 1, 2])
            assert.deepStrictEqual(
              new Map(yield* store.counts),
              new Map([
                [keyOf(1), 2],
                [keyOf(2), 1]
              ])
            )
            assert.strictEqual(stored(path).size, 0)
          })
        )
        assert.deepStrictEqual(
          stored(path),
          new Map([
            [keyOf(1), 2],
            [keyOf(2), 1]
          ])
        )

        // Reopened, the counts are loaded and new downloads add to them.
        yield* Effect.scoped(
          Effect.gen(function* () {
            const store = yield* storeIn(SqliteDownloadStore.layer({ path, flushInterval: "1 hour" }))
            assert.deepStrictEqual(
              new Map(yield* store.counts),
              new Map([
                [keyOf(1), 2],
                [keyOf(2), 1]
              ])
            )
            yield* recordAll(store, [2, 3])
          })
        )
        assert.deepStrictEqual(
          stored(path),
          new Map([
            [keyOf(1), 2],
            [keyOf(2), 2],
            [keyOf(3), 1]
          ])
        )
      })
    )
  )

  it.live("writes on its interval while the store is open", () =>
    quiet(
      Effect.gen(function* () {
        const path = freshPath()
        yield* Effect.scoped(
          Effect.gen(function* () {
            const store = yield* storeIn(SqliteDownloadStore.layer({ path, flushInterval: "20 millis" }))
            yield* recordAll(store, [7, 7, 7])
            for (let i = 0; i < 100 && stored(path).get(keyOf(7)) !== 3; i++) yield* Effect.sleep("10 millis")
            assert.deepStrictEqual(stored(path), new Map([[keyOf(7), 3]]))
          })
        )
        assert.deepStrictEqual(stored(path), new Map([[keyOf(7), 3]]))
      })
    )
  )

  it.live("never makes record wait for a slow write, and counts what arrived during it in the next batch", () =>
    quiet(
      Effect.gen(function* () {
        const started = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        let calls = 0
        const { persistence, written } = controlledPersistence(() =>
          ++calls === 1 ? Effect.andThen(Deferred.succeed(started, undefined), Deferred.await(release)) : Effect.void
        )
        yield* Effect.scoped(
          Effect.gen(function* () {
            const store = yield* SqliteDownloadStore.make(persistence, { flushInterval: "5 millis" })
            yield* recordAll(store, [1])
            yield* Deferred.await(started)
            // The first write hangs; recording carries on in memory meanwhile.
            const startedAt = Date.now()
            yield* recordAll(
              store,
              Array.from({ length: 500 }, (_, i) => i % 3)
            )
            assert.isBelow(Date.now() - startedAt, 200)
            assert.strictEqual((yield* store.counts).get(keyOf(1)), 1 + 167)
            yield* Deferred.succeed(release, undefined)
          })
        )
        assert.deepStrictEqual(
          written,
          new Map([
            [keyOf(0), 167],
            [keyOf(1), 168],
            [keyOf(2), 166]
          ])
        )
      })
    )
  )

  it.live("keeps a failed batch and writes it with the next one", () =>
    quiet(
      Effect.gen(function* () {
        let failures = 2
        const { persistence, written } = controlledPersistence(() =>
          failures-- > 0 ? Effect.fail(new Error("disk unavailable")) : Effect.void
        )
        yield* Effect.scoped(
          Effect.gen(function* () {
            const store = yield* SqliteDownloadStore.make(persistence, { flushInterval: "5 millis" })
            yield* recordAll(store, [1, 2])
            yield* Effect.sleep("30 millis")
            yield* recordAll(store, [2])
            assert.deepStrictEqual(
              new Map(yield* store.counts),
              new Map([
                [keyOf(1), 1],
                [keyOf(2), 2]
              ])
            )
          })
        )
        assert.isAtMost(failures, 0)
        assert.deepStrictEqual(
          written,
          new Map([
            [keyOf(1), 1],
            [keyOf(2), 2]
          ])
        )
      })
    )
  )

  it.live("keeps counting in memory when the database is locked by another process, and writes later", () =>
    quiet(
      Effect.gen(function* () {
        const path = freshPath()
        yield* Effect.scoped(
          Effect.gen(function* () {
            const store = yield* storeIn(SqliteDownloadStore.layer({ path, flushInterval: "10 millis" }))
            const other = new DatabaseSync(path)
            other.exec("BEGIN IMMEDIATE")
            const startedAt = Date.now()
            yield* recordAll(store, [4, 4])
            yield* Effect.sleep("100 millis")
            // Write attempts gave up quickly instead of holding the event loop for the busy timeout.
            assert.isBelow(Date.now() - startedAt, 1_000)
            assert.strictEqual((yield* store.counts).get(keyOf(4)), 2)
            other.exec("ROLLBACK")
            other.close()
            for (let i = 0; i < 100 && stored(path).get(keyOf(4)) !== 2; i++) yield* Effect.sleep("10 millis")
          })
        )
        assert.deepStrictEqual(stored(path), new Map([[keyOf(4), 2]]))
      })
    )
  )
})
