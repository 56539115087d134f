import { Context, Effect, Exit, Layer } from "effect"
import type { InvalidCatalog } from "../../errors/Errors.ts"
import type { Build } from "../domain/Catalog.ts"
import * as CatalogIndex from "../domain/CatalogIndex.ts"
import * as CatalogLoader from "../domain/CatalogLoader.ts"

/** How a source is doing, for `/health` details. A source that failed keeps serving its last good catalog. */
export interface SourceHealth {
  readonly name: string
  readonly status: "ok" | "degraded"
  readonly lastSuccessAt?: string | undefined
  readonly lastError?: string | undefined
}

/**
 * Where the release catalog comes from: a JSON file, a Workers binding, GitHub releases.
 * `catalog` is read on every request, so it must answer from memory: sources refresh in the
 * background and never put their backend on the request path. A source holding its catalog in
 * memory makes `catalog` a getter answering an `Exit` of the current catalog (see `make`): update
 * checks over it then run to their answer without starting a fiber.
 */
export interface ReleaseSourceShape {
  readonly catalog: Effect.Effect<CatalogIndex.CatalogIndex>
  readonly health: Effect.Effect<ReadonlyArray<SourceHealth>>
  /**
   * Synchronises now with the backend (`POST /admin/sync`) and reports each upstream unit; absent
   * for sources that have nothing to synchronise. It never fails: failures are outcomes.
   */
  readonly sync?: Effect.Effect<ReadonlyArray<SyncOutcome>> | undefined
  /**
   * How to download a build's artifact when its `download_url` alone does not do (a private GitHub
   * repository needs the API's asset URL and the token); `undefined` means the plain URL.
   */
  readonly artifactRequest?: ((build: Build) => ArtifactRequest | undefined) | undefined
}

/** What one upstream unit (a GitHub repository) came to when it was synchronised. */
export interface SyncOutcome {
  /** The kind of source, e.g. `github`. */
  readonly source: string
  /** The unit synchronised, e.g. `owner/repo`. */
  readonly target: string
  /** `unchanged` when the backend confirmed the data it had sent before (a 304). */
  readonly status: "updated" | "unchanged" | "failed"
  /** The projects the unit feeds, as now served (the last good ones after a failure). */
  readonly projects: ReadonlyArray<string>
  readonly durationMs: number
  readonly error?: { readonly code: string; readonly message: string } | undefined
}

/** A download request for an artifact: its URL and the headers it needs (credentials included). */
export interface ArtifactRequest {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
}

export class ReleaseSource extends Context.Service<ReleaseSource, ReleaseSourceShape>()(
  "@lunarbit/gateway-core/ReleaseSource"
) {}

/**
 * Builds a source from the minimal surface: the current catalog and health, each as an effect or,
 * when held in memory, as a function returning it (read anew on each access, as an `Exit`).
 */
export const make = (options: {
  readonly name: string
  readonly catalog: Effect.Effect<CatalogIndex.CatalogIndex> | (() => CatalogIndex.CatalogIndex)
  readonly health?: Effect.Effect<SourceHealth> | (() => SourceHealth) | undefined
}): ReleaseSourceShape => {
  const { catalog, health } = options
  const healthy = Effect.succeed([{ name: options.name, status: "ok" as const }])
  return {
    get catalog() {
      return typeof catalog === "function" ? Exit.succeed(catalog()) : catalog
    },
    get health() {
      if (health === undefined) return healthy
      return typeof health === "function" ? Exit.succeed([health()]) : Effect.map(health, (h) => [h])
    }
  }
}

/**
 * `source` with its catalog seen through `f` (eagerly: an `Exit` stays one); every other member is
 * read through to `source`, so getters of a source held in memory keep reading its current state.
 * Spreading a source (`{ ...source }`) would copy its getters' answers of the moment instead.
 */
export const mapCatalog = (
  source: ReleaseSourceShape,
  f: (index: CatalogIndex.CatalogIndex) => CatalogIndex.CatalogIndex
): ReleaseSourceShape => mapSource(source, f, undefined)

/** {@link mapCatalog} for the health. */
export const mapHealth = (
  source: ReleaseSourceShape,
  f: (health: ReadonlyArray<SourceHealth>) => ReadonlyArray<SourceHealth>
): ReleaseSourceShape => mapSource(source, undefined, f)

const mapSource = (
  source: ReleaseSourceShape,
  catalog: ((index: CatalogIndex.CatalogIndex) => CatalogIndex.CatalogIndex) | undefined,
  health: ((health: ReadonlyArray<SourceHealth>) => ReadonlyArray<SourceHealth>) | undefined
): ReleaseSourceShape => ({
  get catalog() {
    return catalog === undefined ? source.catalog : Effect.mapEager(source.catalog, catalog)
  },
  get health() {
    return health === undefined ? source.health : Effect.mapEager(source.health, health)
  },
  get sync() {
    return source.sync
  },
  get artifactRequest() {
    return source.artifactRequest
  }
})

// Every source's answer when all are settled (held in memory), else `undefined`.
const settledAll = <A>(effects: ReadonlyArray<Effect.Effect<A>>): Array<A> | undefined => {
  const values: Array<A> = []
  for (const effect of effects) {
    if (!Exit.isExit(effect) || Exit.isFailure(effect)) return undefined
    values.push(effect.value as A)
  }
  return values
}

/** A fixed catalog held in memory, checked by `CatalogLoader` first. */
export const layerMemory = (document: unknown): Layer.Layer<ReleaseSource, InvalidCatalog> =>
  Layer.effect(
    ReleaseSource,
    Effect.map(CatalogLoader.load(document), (index) => make({ name: "memory", catalog: Effect.succeed(index) }))
  )

const sameInputs = (a: ReadonlyArray<CatalogIndex.CatalogIndex>, b: ReadonlyArray<CatalogIndex.CatalogIndex>) =>
  a.length === b.length && a.every((index, i) => index === b[i])

/**
 * Several sources served as one (the catalog file and GitHub, say): projects from all of them, in
 * order. Project ids must be unique across sources; on a clash the earlier source's project is
 * served and the clash is logged. The merge is redone only when a source's catalog changes.
 */
export const combine = (sources: ReadonlyArray<ReleaseSourceShape>): ReleaseSourceShape => {
  let inputs: ReadonlyArray<CatalogIndex.CatalogIndex> = []
  let merged: CatalogIndex.CatalogIndex = CatalogIndex.empty
  const mergeOf = (indexes: ReadonlyArray<CatalogIndex.CatalogIndex>) => {
    if (sameInputs(indexes, inputs)) return Effect.succeed(merged)
    const projects: Array<CatalogIndex.IndexedProject> = []
    const projectsById = new Map<string, CatalogIndex.IndexedProject>()
    const clashes: Array<string> = []
    for (const index of indexes) {
      for (const project of index.projects) {
        if (projectsById.has(project.project.id)) {
          clashes.push(project.project.id)
          continue
        }
        projectsById.set(project.project.id, project)
        projects.push(project)
      }
    }
    inputs = indexes
    merged = { projects, projectsById }
    return clashes.length === 0
      ? Effect.succeed(merged)
      : Effect.as(Effect.logWarning("Project ids served by more than one source; the first wins", { clashes }), merged)
  }
  const syncs = sources.flatMap((source) => (source.sync === undefined ? [] : [source.sync]))
  return {
    // Settled when every source's catalog is (sources held in memory): merged without an effect.
    get catalog() {
      const indexes = settledAll(sources.map((source) => source.catalog))
      return indexes === undefined
        ? Effect.flatMap(
            Effect.forEach(sources, (source) => source.catalog),
            mergeOf
          )
        : mergeOf(indexes)
    },
    get health() {
      const all = settledAll(sources.map((source) => source.health))
      return all === undefined
        ? Effect.map(
            Effect.forEach(sources, (source) => source.health),
            (all) => all.flat()
          )
        : Exit.succeed(all.flat())
    },
    sync:
      syncs.length === 0 ? undefined : Effect.map(Effect.all(syncs, { concurrency: "unbounded" }), (all) => all.flat()),
    artifactRequest: (build) => {
      for (const source of sources) {
        const request = source.artifactRequest?.(build)
        if (request !== undefined) return request
      }
      return undefined
    }
  }
}

/** `combine` over layers: each is built on its own, and their sources are served as one. */
export const layerCombined = <E, R>(
  ...layers: ReadonlyArray<Layer.Layer<ReleaseSource, E, R>>
): Layer.Layer<ReleaseSource, E, R> =>
  Layer.effect(
    ReleaseSource,
    Effect.map(
      Effect.forEach(layers, (layer) =>
        Effect.map(Layer.build(layer), (context) => Context.get(context, ReleaseSource))
      ),
      combine
    )
  )
