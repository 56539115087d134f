import { Clock, type Config, Duration, Effect, Layer, Schedule, type Scope } from "effect"
import { buildVerification as verificationConfig } from "../../config/GatewayConfig.ts"
import type { Build, BuildStatus, CatalogDocument } from "../domain/Catalog.ts"
import * as CatalogIndex from "../domain/CatalogIndex.ts"
import { ArtifactDigest } from "../ports/ArtifactDigest.ts"
import * as ReleaseSourcePort from "../ports/ReleaseSource.ts"
import { ReleaseSource, type ReleaseSourceShape } from "../ports/ReleaseSource.ts"

/**
 * Background build verification, as a decorator of any release source: each build's artifact is
 * downloaded (streamed through `ArtifactDigest`, never held whole) and its SHA-256 and MD5 are
 * compared with the published ones. Builds whose source declares a `status` are left as declared.
 * The catalog is served with each build's `status`: `verified`,
 * `checksum_mismatch` (never offered by an update check), `unreachable`, or `unverified` (nothing
 * published to compare with). A build is checked again when its asset changes (another URL, size,
 * checksum or upload time); unreachable ones are retried after `retryUnreachableAfter`.
 */
export interface Options {
  /** Artifacts downloaded at the same time; default 2. */
  readonly concurrency?: number | undefined
  /** The longest one download may take; default 15 minutes. */
  readonly timeout?: Duration.Input | undefined
  /** How often the source is looked at for new or changed builds; default 2 seconds (a reference check). */
  readonly pollInterval?: Duration.Input | undefined
  /** Default 15 minutes. */
  readonly retryUnreachableAfter?: Duration.Input | undefined
  readonly fetch?: typeof globalThis.fetch | undefined
}

interface Result {
  readonly status: BuildStatus
  readonly at: number
}

/** What identifies an artifact: when any of it changes, the build is verified again. */
export const fingerprint = (build: Build): string =>
  [build.download_url, build.file_size, build.checksum?.sha256, build.checksum?.md5, build.created_at].join("\n")

const withStatuses = (
  index: CatalogIndex.CatalogIndex,
  statusOf: (build: Build) => BuildStatus | undefined
): CatalogIndex.CatalogIndex => {
  const document: CatalogDocument = {
    projects: index.projects.map(({ project }) => ({
      ...project,
      channels: project.channels.map((channel) => ({
        ...channel,
        versions: channel.versions.map((version) => ({
          ...version,
          builds: version.builds.map((build) => {
            if (build.status !== undefined) return build
            const status = statusOf(build)
            return status === undefined ? build : { ...build, status }
          })
        }))
      }))
    }))
  }
  return CatalogIndex.make(document)
}

/** Decorates `source`; verification runs in the current scope until it closes. */
export const make = (
  source: ReleaseSourceShape,
  options: Options = {}
): Effect.Effect<ReleaseSourceShape, never, Scope.Scope | ArtifactDigest> =>
  Effect.gen(function* () {
    const digest = yield* ArtifactDigest
    const fetch = options.fetch ?? globalThis.fetch
    const timeout = options.timeout ?? Duration.minutes(15)
    const retryAfter = Duration.toMillis(options.retryUnreachableAfter ?? Duration.minutes(15))
    const results = new Map<string, Result>()
    let generation = 0
    let served: { base: CatalogIndex.CatalogIndex; generation: number; index: CatalogIndex.CatalogIndex } | undefined

    const check = (build: Build): Effect.Effect<BuildStatus> => {
      const request = source.artifactRequest?.(build) ?? { url: build.download_url, headers: {} }
      const expected = build.checksum ?? {}
      const download = Effect.tryPromise({
        try: (signal) => fetch(request.url, { headers: request.headers, redirect: "follow", signal }),
        catch: (error) => error
      })
      return Effect.gen(function* () {
        const response = yield* download
        if (!response.ok || response.body === null) {
          yield* Effect.promise(() => response.body?.cancel() ?? Promise.resolve())
          return "unreachable" as const
        }
        // Without a published checksum only reachability can be told: the body is not downloaded.
        if (expected.sha256 === undefined && expected.md5 === undefined) {
          yield* Effect.promise(() => response.body!.cancel())
          return "unverified" as const
        }
        const actual = yield* digest.digest(response.body)
        const sha256Ok = expected.sha256 === undefined || expected.sha256.toLowerCase() === actual.sha256
        const md5Ok =
          expected.md5 === undefined || actual.md5 === undefined || expected.md5.toLowerCase() === actual.md5
        return sha256Ok && md5Ok ? ("verified" as const) : ("checksum_mismatch" as const)
      }).pipe(
        Effect.timeout(timeout),
        Effect.catch(() => Effect.succeed("unreachable" as const))
      )
    }

    const verify = (build: Build, key: string) =>
      Effect.gen(function* () {
        const status = yield* check(build)
        results.set(key, { status, at: yield* Clock.currentTimeMillis })
        generation++
        if (status === "checksum_mismatch" || status === "unreachable") {
          yield* Effect.logWarning("Build verification failed", { url: build.download_url, status })
        }
      })

    let lastSeen: CatalogIndex.CatalogIndex | undefined
    let nextRetry = Number.POSITIVE_INFINITY
    const pass = Effect.gen(function* () {
      const base = yield* source.catalog
      const now = yield* Clock.currentTimeMillis
      if (base === lastSeen && now < nextRetry) return
      lastSeen = base
      const pending = new Map<string, Build>()
      const live = new Set<string>()
      for (const { project } of base.projects) {
        for (const channel of project.channels) {
          for (const version of channel.versions) {
            for (const build of version.builds) {
              // A status the source declares (a catalog file's, say) is its author's word; only
              // builds that arrive without one (GitHub's) are checked here.
              if (build.status !== undefined) continue
              const key = fingerprint(build)
              live.add(key)
              const known = results.get(key)
              if (known === undefined || (known.status === "unreachable" && now - known.at >= retryAfter)) {
                pending.set(key, build)
              }
            }
          }
        }
      }
      // Results of builds that left the catalog are dropped, so memory follows the catalog.
      for (const key of results.keys()) if (!live.has(key)) results.delete(key)
      yield* Effect.forEach(pending, ([key, build]) => verify(build, key), {
        concurrency: options.concurrency ?? 2,
        discard: true
      })
      const unreachable = [...results.values()].filter((r) => r.status === "unreachable").map((r) => r.at)
      nextRetry = unreachable.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...unreachable) + retryAfter
    })

    yield* Effect.forkScoped(Effect.repeat(pass, Schedule.spaced(options.pollInterval ?? Duration.seconds(2))))

    const withResults = (base: CatalogIndex.CatalogIndex) => {
      if (served === undefined || served.base !== base || served.generation !== generation) {
        served = { base, generation, index: withStatuses(base, (build) => results.get(fingerprint(build))?.status) }
      }
      return served.index
    }
    return ReleaseSourcePort.mapCatalog(source, withResults)
  })

/** Verification around the `ReleaseSource` below it: `BuildVerification.layer().pipe(Layer.provide(source))`. */
export const layer = (options: Options = {}): Layer.Layer<ReleaseSource, never, ReleaseSource | ArtifactDigest> =>
  Layer.effect(
    ReleaseSource,
    Effect.gen(function* () {
      return yield* make(yield* ReleaseSource, options)
    })
  )

/**
 * Verification as configured (`BUILD_VERIFICATION`, `BUILD_VERIFICATION_CONCURRENCY`,
 * `BUILD_VERIFICATION_TIMEOUT`); with `BUILD_VERIFICATION=false` the source is passed through.
 */
export const layerConfig: Layer.Layer<ReleaseSource, Config.ConfigError, ReleaseSource | ArtifactDigest> = Layer.effect(
  ReleaseSource,
  Effect.gen(function* () {
    const settings = yield* verificationConfig
    const source = yield* ReleaseSource
    if (!settings.enabled) return source
    return yield* make(source, {
      concurrency: settings.concurrency,
      timeout: Duration.seconds(settings.timeoutSeconds)
    })
  })
)
