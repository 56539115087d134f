import { Clock, type Context, Deferred, type Duration, Effect, Exit, Schedule, type Scope } from "effect"
import type { GatewayErrorShape } from "../../errors/GatewayError.ts"
import type { CatalogDocument, Project } from "../domain/Catalog.ts"
import * as CatalogIndex from "../domain/CatalogIndex.ts"
import * as CatalogLoader from "../domain/CatalogLoader.ts"
import type { ReleaseSourceShape, SourceHealth, SyncOutcome } from "../ports/ReleaseSource.ts"

/**
 * Keeps a catalog synchronised with remote units (GitHub repositories) off the request path: the
 * catalog is answered from memory, each unit is fetched in the background every `interval` and on
 * demand, never twice at the same time, and a unit that fails keeps serving its last good projects
 * (stale-while-revalidate) while `/health` shows the failure.
 */
export interface SyncUnit {
  /** The kind of backend, e.g. `github`. */
  readonly source: string
  /** The unit's name, e.g. `owner/repo`; unique among the units of one engine. */
  readonly target: string
  /**
   * Fetches the unit's projects. It owns its incremental state (ETags, caches) and must commit it
   * only when it succeeds; `changed: false` means the backend confirmed the last answer.
   */
  /** The projects the unit last fed, when resuming (served until a synchronisation replaces them). */
  readonly initial?: ReadonlyArray<Project> | undefined
  readonly fetch: Effect.Effect<
    { readonly changed: boolean; readonly projects: ReadonlyArray<Project> },
    GatewayErrorShape
  >
}

export interface Options {
  readonly units: ReadonlyArray<SyncUnit>
  /** Time between background synchronisations; each starts when the previous one ended. */
  readonly interval: Duration.Input
  /**
   * `false`: no background synchronisation, only `sync` on demand, for hosts whose timers do not
   * outlive a request (a Worker synchronises from its cron trigger). Default `true`.
   */
  readonly background?: boolean | undefined
  /** Units fetched at the same time; the backend's quota is shared, so keep it small. */
  readonly concurrency?: number | undefined
}

interface UnitState {
  readonly projects: ReadonlyArray<Project> | undefined
  readonly lastSuccessAt?: string | undefined
  readonly lastError?: string | undefined
}

const pending = "Waiting for the first synchronisation"

type Failure = Pick<GatewayErrorShape, "code" | "message">

/**
 * Starts the engine in the current scope (the first synchronisation begins at once, in the
 * background) and returns it as a release source. Closing the scope stops it.
 */
export const make = (options: Options): Effect.Effect<ReleaseSourceShape, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    // Work started by a caller (an admin request) runs as the engine's own: its logger, not the request's.
    const context = yield* Effect.context<never>()
    const states = new Map<string, UnitState>(options.units.map((u) => [u.target, { projects: u.initial }]))
    // Resumed projects are served at once; were they to fail the checks together, the first sync decides.
    let current: CatalogIndex.CatalogIndex = yield* Effect.orElseSucceed(
      CatalogLoader.load({ projects: options.units.flatMap((u) => u.initial ?? []) }),
      () => CatalogIndex.empty
    )
    // One synchronisation per unit at a time: later callers wait for the one in flight.
    const inflight = new Map<string, Deferred.Deferred<SyncOutcome>>()

    const documentWith = (target: string, projects: ReadonlyArray<Project>): CatalogDocument => ({
      projects: options.units.flatMap((unit) =>
        unit.target === target ? projects : (states.get(unit.target)?.projects ?? [])
      )
    })

    const run = (unit: SyncUnit) =>
      Effect.gen(function* () {
        const started = yield* Clock.currentTimeMillis
        // A defect (a bug, an unexpected answer) fails this unit's round only: the background loop lives on.
        const result = yield* Effect.result(
          Effect.catchDefect(unit.fetch, (defect) =>
            Effect.fail<Failure>({ code: "INTERNAL_ERROR", message: `Unexpected fault: ${String(defect)}` })
          )
        )
        const now = yield* Clock.currentTimeMillis
        const previous = states.get(unit.target) ?? { projects: undefined }
        const outcome = (status: SyncOutcome["status"], error?: Failure): SyncOutcome => ({
          source: unit.source,
          target: unit.target,
          status,
          projects: (states.get(unit.target)?.projects ?? []).map((p) => p.id),
          durationMs: now - started,
          ...(error === undefined ? {} : { error: { code: error.code, message: error.message } })
        })
        const fail = (error: Failure) =>
          Effect.gen(function* () {
            states.set(unit.target, { ...previous, lastError: error.message })
            yield* Effect.logWarning("Release source synchronisation failed; serving the last good catalog", {
              source: unit.source,
              target: unit.target,
              code: error.code,
              error: error.message
            })
            return outcome("failed", error)
          })
        if (result._tag === "Failure") return yield* fail(result.failure)
        const { changed, projects } = result.success
        // Unchanged data is checked too when it is not what is being served (it failed the check before).
        if (changed || projects !== previous.projects) {
          // Checked as a whole, so one unit cannot break the catalog (e.g. a project id used twice).
          const loaded = yield* Effect.result(CatalogLoader.load(documentWith(unit.target, projects)))
          if (loaded._tag === "Failure") {
            const problems = (loaded.failure.details?.problems as ReadonlyArray<string> | undefined) ?? []
            return yield* fail({ code: loaded.failure.code, message: [loaded.failure.message, ...problems].join("; ") })
          }
          current = loaded.success
        }
        states.set(unit.target, { projects, lastSuccessAt: new Date(now).toISOString() })
        return outcome(changed ? "updated" : "unchanged")
      })

    const syncUnit = (unit: SyncUnit): Effect.Effect<SyncOutcome> =>
      Effect.suspend(() => {
        const running = inflight.get(unit.target)
        if (running !== undefined) return Deferred.await(running)
        const deferred = Deferred.makeUnsafe<SyncOutcome>()
        inflight.set(unit.target, deferred)
        // Forked into the engine's scope: a caller that goes away does not cancel the fetch.
        return Effect.flatMap(
          Effect.forkIn(
            Deferred.into(run(unit), deferred).pipe(
              Effect.ensuring(Effect.sync(() => inflight.delete(unit.target))),
              Effect.updateContext((_: Context.Context<never>) => context)
            ),
            scope
          ),
          () => Deferred.await(deferred)
        )
      })

    const syncAll = Effect.forEach(options.units, syncUnit, { concurrency: options.concurrency ?? 2 })

    if (options.background !== false)
      yield* Effect.forkIn(Effect.repeat(syncAll, Schedule.spaced(options.interval)), scope)

    const health = (): ReadonlyArray<SourceHealth> =>
      options.units.map((unit) => {
        const state = states.get(unit.target) ?? { projects: undefined }
        const ok = state.lastError === undefined && state.lastSuccessAt !== undefined
        return {
          name: `${unit.source}:${unit.target}`,
          status: ok ? "ok" : "degraded",
          ...(state.lastSuccessAt === undefined ? {} : { lastSuccessAt: state.lastSuccessAt }),
          ...(ok ? {} : { lastError: state.lastError ?? pending })
        }
      })

    return {
      // Getters: the state held here is read as an `Exit` (see `ReleaseSource`).
      get catalog() {
        return Exit.succeed(current)
      },
      get health() {
        return Exit.succeed(health())
      },
      sync: syncAll
    }
  })
