import {
  type Catalog,
  CatalogIndex,
  CatalogLoader,
  GitHubReleaseSource,
  type ReleaseSource
} from "@lunarbit/gateway-core"
import { Clock, Effect } from "effect"
import type { KVNamespace } from "./Cloudflare.ts"

/** The KV entries: the catalog requests read, and the source's state the next synchronisation resumes. */
export const keys = { catalog: "github/catalog", state: "github/state" } as const

/** What a synchronisation stores for requests to read. */
interface StoredCatalog {
  readonly projects: ReadonlyArray<Catalog.Project>
  readonly health: ReadonlyArray<ReleaseSource.SourceHealth>
}

export interface Options {
  readonly kv: KVNamespace
  /** The GitHub source's settings; its background synchronisation is off, the cron trigger does it. */
  readonly github: Omit<GitHubReleaseSource.Options, "background" | "resume">
  /** How long an isolate serves the catalog it read before reading KV again; default 60 seconds. */
  readonly refreshMs?: number | undefined
}

const notYet: ReadonlyArray<ReleaseSource.SourceHealth> = [
  { name: "github", status: "degraded", lastError: "Waiting for the first synchronisation (the cron trigger)" }
]

const parse = <A>(text: string | null): A | undefined => (text === null ? undefined : (JSON.parse(text) as A))

/**
 * GitHub releases on Workers: `sync` (the Worker's cron trigger and `POST /admin/sync`) runs the
 * core's `GitHubReleaseSource` once, resuming from the state stored in KV (its ETags, so an
 * unchanged repository costs no quota), and stores the catalog and the new state there. Requests
 * read the stored catalog, held in the isolate for `refreshMs`, and never call GitHub.
 */
export const make = (options: Options): ReleaseSource.ReleaseSourceShape => {
  const refreshMs = options.refreshMs ?? 60_000
  let held:
    | { readonly at: number; readonly index: CatalogIndex.CatalogIndex; readonly stored: StoredCatalog }
    | undefined

  const hold = (stored: StoredCatalog) =>
    Effect.gen(function* () {
      // Checked as a whole again: the stored catalog was valid when written, but is read from outside.
      const index = yield* Effect.orElseSucceed(
        CatalogLoader.load({ projects: stored.projects }),
        () => CatalogIndex.empty
      )
      held = { at: yield* Clock.currentTimeMillis, index, stored }
      return held
    })

  const current = Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    if (held !== undefined && now - held.at < refreshMs) return held
    const stored = parse<StoredCatalog>(yield* Effect.promise(() => options.kv.get(keys.catalog, "text")))
    return yield* hold(stored ?? { projects: [], health: notYet })
  })

  const sync = Effect.scoped(
    Effect.gen(function* () {
      const state = parse<Record<string, GitHubReleaseSource.SavedRepository>>(
        yield* Effect.promise(() => options.kv.get(keys.state, "text"))
      )
      const github = yield* GitHubReleaseSource.makeResumable({
        ...options.github,
        background: false,
        resume: new Map(Object.entries(state ?? {}))
      })
      const outcomes = yield* github.source.sync ?? Effect.succeed([])
      const index = yield* github.source.catalog
      const stored: StoredCatalog = {
        projects: index.projects.map((indexed) => indexed.project),
        health: yield* github.source.health
      }
      const saved = Object.fromEntries(yield* github.saved)
      yield* Effect.promise(() =>
        Promise.all([
          options.kv.put(keys.state, JSON.stringify(saved)),
          options.kv.put(keys.catalog, JSON.stringify(stored))
        ])
      )
      yield* hold(stored)
      return outcomes
    })
  )

  return {
    catalog: Effect.map(current, (held) => held.index),
    health: Effect.map(current, (held) => held.stored.health),
    sync
  }
}
