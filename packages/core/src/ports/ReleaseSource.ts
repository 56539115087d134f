import { Context, Effect, Layer } from "effect"
import type * as CatalogIndex from "../domain/CatalogIndex.ts"
import * as CatalogLoader from "../domain/CatalogLoader.ts"
import type { InvalidCatalog } from "../errors/Errors.ts"

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
 * background and never put their backend on the request path.
 */
export interface ReleaseSourceShape {
  readonly catalog: Effect.Effect<CatalogIndex.CatalogIndex>
  readonly health: Effect.Effect<ReadonlyArray<SourceHealth>>
}

export class ReleaseSource extends Context.Service<ReleaseSource, ReleaseSourceShape>()(
  "@lunarbit/gateway-core/ReleaseSource"
) {}

/** Builds a source from the minimal surface: a function returning the current catalog. */
export const make = (options: {
  readonly name: string
  readonly catalog: Effect.Effect<CatalogIndex.CatalogIndex>
  readonly health?: Effect.Effect<SourceHealth> | undefined
}): ReleaseSourceShape => ({
  catalog: options.catalog,
  health: options.health
    ? Effect.map(options.health, (h) => [h])
    : Effect.succeed([{ name: options.name, status: "ok" as const }])
})

/** A fixed catalog held in memory, checked by `CatalogLoader` first. */
export const layerMemory = (document: unknown): Layer.Layer<ReleaseSource, InvalidCatalog> =>
  Layer.effect(
    ReleaseSource,
    Effect.map(CatalogLoader.load(document), (index) => make({ name: "memory", catalog: Effect.succeed(index) }))
  )
