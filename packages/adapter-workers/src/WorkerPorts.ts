import {
  CatalogLoader,
  DownloadStore,
  type Errors,
  GatewayConfig,
  KeyStore,
  RateLimitStore,
  ReleaseSource,
  RolloutStore,
  UsageFlush
} from "@lunarbit/gateway-core"
import { type Config, Effect, Exit, Layer, Option } from "effect"
import { isD1, isDurableObjectNamespace, isKV } from "./Cloudflare.ts"
import * as D1DownloadStore from "./D1DownloadStore.ts"
import * as D1KeyStore from "./D1KeyStore.ts"
import * as DurableObjectRateLimitStore from "./DurableObjectRateLimitStore.ts"
import * as KvReleaseSource from "./KvReleaseSource.ts"
import { catalogDocument, configProvider, type WorkerBindings } from "./WorkerBindings.ts"

/** The ports of a Worker, and what it must do after each response. */
export interface WorkerPorts {
  readonly layer: Layer.Layer<
    | ReleaseSource.ReleaseSource
    | KeyStore.KeyStore
    | DownloadStore.DownloadStore
    | RateLimitStore.RateLimitStore
    | RolloutStore.RolloutStore,
    Errors.InvalidCatalog | Config.ConfigError | MissingBinding
  >
  /** Writes the usage and downloads this isolate counted since the last flush; for `ctx.waitUntil`. */
  readonly flush: Effect.Effect<void>
  /** Synchronises the GitHub releases into KV (the cron trigger); absent without `GITHUB_PROJECTS`. */
  readonly sync?: Effect.Effect<ReadonlyArray<ReleaseSource.SyncOutcome>> | undefined
  /** The state this Worker keeps in the isolate's memory for want of a binding; empty when it has them all. */
  readonly perIsolate: ReadonlyArray<string>
}

/** What `/health` and the log say when some state lives in the isolate only. */
export const perIsolateNotice = (perIsolate: ReadonlyArray<string>): string =>
  `${perIsolate.join(", ")} live in this isolate's memory only: each isolate counts and forgets on its own. ` +
  "Bind a D1 database as DB and the RateLimiterObject Durable Object as RATE_LIMITER to keep them."

/** A setting that needs a binding the Worker lacks. */
export class MissingBinding extends Error {
  override readonly name = "MissingBinding"
}

/** The GitHub source's settings, or `undefined` without `GITHUB_PROJECTS`. */
const githubSettings = (env: WorkerBindings, config: GatewayConfig.GatewayConfigShape) =>
  Effect.map(GatewayConfig.github.parse(configProvider(env)), (github) =>
    github.projects.length === 0
      ? undefined
      : {
          projects: github.projects,
          apiUrl: github.apiUrl,
          token: Option.getOrUndefined(config.githubToken)
        }
  )

/**
 * The release sources: the `CATALOG` binding's, and GitHub's as stored in the KV namespace bound as
 * `RELEASES`, served as one. Without `GITHUB_PROJECTS`, `CATALOG` is required.
 */
const releaseSources = (
  env: WorkerBindings,
  config: GatewayConfig.GatewayConfigShape
): {
  readonly source: Effect.Effect<
    ReleaseSource.ReleaseSourceShape,
    Errors.InvalidCatalog | Config.ConfigError | MissingBinding
  >
  readonly sync: Effect.Effect<ReadonlyArray<ReleaseSource.SyncOutcome>> | undefined
} => {
  const settings = Effect.runSyncExit(githubSettings(env, config))
  if (Exit.isFailure(settings)) return { source: Effect.failCause(settings.cause), sync: undefined }
  const github = settings.value
  if (github === undefined) return { source: memorySource(env.CATALOG), sync: undefined }
  if (!isKV(env.RELEASES)) {
    const missing = new MissingBinding(
      "GITHUB_PROJECTS needs a KV namespace bound as RELEASES, where the cron trigger stores the releases"
    )
    return { source: Effect.fail(missing), sync: undefined }
  }
  const stored = KvReleaseSource.make({ kv: env.RELEASES, github })
  return {
    source:
      env.CATALOG === undefined
        ? Effect.succeed(stored)
        : Effect.map(memorySource(env.CATALOG), (bound) => ReleaseSource.combine([bound, stored])),
    sync: stored.sync
  }
}

const memorySource = (binding: unknown) =>
  Effect.map(Effect.flatMap(catalogDocument(binding), CatalogLoader.load), (index) =>
    ReleaseSource.make({ name: "memory", catalog: Effect.succeed(index) })
  )

/**
 * The ports a Worker serves from its bindings:
 *
 * - the catalog of the `CATALOG` binding, held in memory, and with `GITHUB_PROJECTS` the GitHub
 *   releases the cron trigger stores in the KV namespace bound as `RELEASES`;
 * - with a D1 database bound as `DB`: API keys, their usage, the audit log and download counts
 *   there, shared by every isolate; usage and downloads are counted in memory and written by `flush`;
 * - with the `RateLimiterObject` namespace bound as `RATE_LIMITER`: exact rate limits, one object
 *   per bucket;
 * - without them, the same state in the isolate's memory (named in `perIsolate`).
 *
 * Building the layer fails with `InvalidCatalog` when the catalog binding is missing or invalid.
 */
export const make = (env: WorkerBindings, config: GatewayConfig.GatewayConfigShape): WorkerPorts => {
  let usageFlush: Effect.Effect<void> = Effect.void
  const perIsolate: Array<string> = []
  const db = isD1(env.DB) ? env.DB : undefined
  const downloads = db === undefined ? undefined : D1DownloadStore.make(db)
  if (db === undefined) perIsolate.push("API keys, usage, the audit log, download counts")
  const limiter = isDurableObjectNamespace(env.RATE_LIMITER) ? env.RATE_LIMITER : undefined
  if (limiter === undefined) perIsolate.push("rate limits")

  const sources = releaseSources(env, config)
  const source = Layer.effect(
    ReleaseSource.ReleaseSource,
    Effect.map(sources.source, (catalog) => {
      if (perIsolate.length === 0) return catalog
      // The only place a client can see it: the state's health is the gateway's.
      const state = { name: "state", status: "degraded" as const, lastError: perIsolateNotice(perIsolate) }
      return ReleaseSource.mapHealth(catalog, (sources) => [...sources, state])
    })
  )

  return {
    layer: Layer.mergeAll(
      source,
      db === undefined ? KeyStore.layerMemory() : D1KeyStore.layer(db),
      downloads === undefined ? DownloadStore.layerMemory : Layer.succeed(DownloadStore.DownloadStore, downloads.store),
      limiter === undefined ? RateLimitStore.layerMemory : DurableObjectRateLimitStore.layer(limiter),
      // Rollout states changed through the admin endpoints last as long as the isolate; catalog rollouts are lasting.
      RolloutStore.layerMemory,
      UsageFlush.handOver((flush) => {
        usageFlush = flush
      })
    ) as WorkerPorts["layer"],
    flush: Effect.suspend(() =>
      Effect.all([usageFlush, downloads?.flush ?? Effect.void], { concurrency: "unbounded", discard: true })
    ),
    sync: sources.sync,
    perIsolate
  }
}
