import { existsSync, watch } from "node:fs"
import { readFile } from "node:fs/promises"
import { basename, dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { type CatalogIndex, CatalogLoader, type Errors, ReleaseSource } from "@lunarbit/gateway-core"
import { Config, Effect, Layer, Ref } from "effect"

export interface Options {
  /** Path of the catalog JSON file. */
  readonly path: string
  /** How long the file must be quiet before it is reloaded; editors write in several steps. */
  readonly debounceMs?: number | undefined
}

const read = (path: string) =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (error) => (error as Error).message
  }).pipe(
    Effect.flatMap((text) => Effect.mapError(CatalogLoader.loadText(text), (e) => describe(e))),
    Effect.mapError((message) => `${path}: ${message}`)
  )

const describe = (error: Errors.InvalidCatalog) => {
  const problems = (error.details?.problems as ReadonlyArray<string> | undefined) ?? []
  return [error.message, ...problems.map((p) => `  - ${p}`)].join("\n")
}

/** The catalog file could not be used at start: the message lists every problem. */
export class CatalogFileError extends Error {
  override readonly name = "CatalogFileError"
}

/**
 * A release catalog read from a JSON file and reloaded when the file changes. The first load must
 * succeed (the gateway refuses to start on a bad file, saying why); a bad file written later is
 * reported and never replaces the good catalog being served.
 */
export const make = (options: Options) =>
  Effect.gen(function* () {
    const path = resolve(options.path)
    const initial = yield* Effect.mapError(read(path), (message) => new CatalogFileError(message))
    const current = yield* Ref.make<CatalogIndex.CatalogIndex>(initial)
    const health = yield* Ref.make<ReleaseSource.SourceHealth>({
      name: `file:${basename(path)}`,
      status: "ok",
      lastSuccessAt: new Date().toISOString()
    })

    const reload = read(path).pipe(
      Effect.matchEffect({
        onSuccess: (index) =>
          Effect.all([
            Ref.set(current, index),
            Ref.update(health, (h) => ({
              name: h.name,
              status: "ok" as const,
              lastSuccessAt: new Date().toISOString()
            })),
            Effect.logInfo("Catalog reloaded", { path, projects: index.projects.length })
          ]),
        onFailure: (message) =>
          Effect.all([
            Ref.update(health, (h) => ({ ...h, status: "degraded" as const, lastError: message })),
            Effect.logError("Catalog file is invalid; still serving the last good catalog", { path, problems: message })
          ])
      })
    )

    // Watch the directory, not the file: editors and deploy tools replace files by renaming,
    // which ends a watch on the file itself.
    const services = yield* Effect.context<never>()
    const runReload = () => Effect.runForkWith(services)(reload)
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        let timer: ReturnType<typeof setTimeout> | undefined
        const watcher = watch(dirname(path), (_event, file) => {
          if (file !== null && file !== basename(path)) return
          clearTimeout(timer)
          timer = setTimeout(runReload, options.debounceMs ?? 100)
        })
        return { watcher, cancel: () => clearTimeout(timer) }
      }),
      ({ watcher, cancel }) =>
        Effect.sync(() => {
          cancel()
          watcher.close()
        })
    )

    return ReleaseSource.make({
      name: "file",
      catalog: () => Ref.getUnsafe(current),
      health: () => Ref.getUnsafe(health)
    })
  })

export const layer = (options: Options): Layer.Layer<ReleaseSource.ReleaseSource, CatalogFileError> =>
  Layer.effect(ReleaseSource.ReleaseSource, make(options))

/**
 * The catalog served when `CATALOG_FILE` is not set: the example catalog. The published package
 * carries it beside its modules (the build copies `examples/catalog.json` into `dist/`); the
 * repository's sources read that file in place.
 */
const shippedCatalog = new URL("./example-catalog.json", import.meta.url)
export const defaultCatalogPath = fileURLToPath(
  existsSync(shippedCatalog) ? shippedCatalog : new URL("../../../examples/catalog.json", import.meta.url)
)

export const catalogPath = Config.String("CATALOG_FILE").pipe(Config.withDefault(defaultCatalogPath))

export const layerConfig: Layer.Layer<ReleaseSource.ReleaseSource, CatalogFileError | Config.ConfigError> =
  Layer.unwrap(
    Effect.gen(function* () {
      return layer({ path: yield* catalogPath })
    })
  )
