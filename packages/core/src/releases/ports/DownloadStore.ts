import { Context, Effect, Layer } from "effect"

/** Identifies one build: project, channel, version and build id. */
export interface BuildRef {
  readonly project: string
  readonly channel: string
  readonly version: string
  readonly build: string
}

export const keyOf = (ref: BuildRef): string => `${ref.project}/${ref.channel}/${ref.version}/${ref.build}`

/**
 * Download counts recorded by the gateway, added to the counts the catalog already carries.
 * `counts` answers from memory; a persistent store loads at start and writes behind.
 */
export interface DownloadStoreShape {
  readonly record: (ref: BuildRef) => Effect.Effect<void>
  /** Counts by `keyOf(ref)`. */
  readonly counts: Effect.Effect<ReadonlyMap<string, number>>
}

export class DownloadStore extends Context.Service<DownloadStore, DownloadStoreShape>()(
  "@lunarbit/gateway-core/DownloadStore"
) {}

export const makeMemory = (initial: Iterable<readonly [string, number]> = []): DownloadStoreShape => {
  const counts = new Map(initial)
  return {
    record: (ref) =>
      Effect.sync(() => {
        const key = keyOf(ref)
        counts.set(key, (counts.get(key) ?? 0) + 1)
      }),
    counts: Effect.succeed(counts)
  }
}

export const layerMemory: Layer.Layer<DownloadStore> = Layer.sync(DownloadStore, () => makeMemory())
