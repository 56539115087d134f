import { Clock, type Config, Duration, Effect, Layer, type Redacted, type Scope } from "effect"
import { GatewayConfig, github as githubConfig } from "../../config/GatewayConfig.ts"
import type { Checksum, Project } from "../domain/Catalog.ts"
import { ReleaseSource, type ReleaseSourceShape } from "../ports/ReleaseSource.ts"
import * as CatalogSync from "../services/CatalogSync.ts"
import * as GitHubApi from "./GitHubApi.ts"
import * as GitHubCatalog from "./GitHubCatalog.ts"
import * as GitHubChecksums from "./GitHubChecksums.ts"
import type { ProjectConfig } from "./GitHubProjects.ts"

/**
 * The catalog of projects whose releases live on GitHub. Each repository is synchronised in the
 * background (and on `POST /admin/sync`) with conditional requests, so an unchanged repository
 * costs no API quota; requests never wait for GitHub, and a failing repository keeps serving what it
 * last had. Works without a token for public repositories and with one for private repositories.
 */
export interface Options {
  readonly projects: ReadonlyArray<ProjectConfig>
  /** Default `https://api.github.com`. */
  readonly apiUrl?: string | undefined
  readonly token?: Redacted.Redacted<string> | undefined
  /** Default 5 minutes. */
  readonly syncInterval?: Duration.Input | undefined
  /** Releases per page (at most 100, the default). */
  readonly perPage?: number | undefined
  /** Repositories synchronised at the same time; default 2. */
  readonly concurrency?: number | undefined
  readonly fetch?: typeof globalThis.fetch | undefined
  /** `false`: synchronise only on `sync` (see `CatalogSync.Options.background`). Default `true`. */
  readonly background?: boolean | undefined
  /**
   * Each repository's state as `saved` last handed it over (by repository name), to resume from:
   * its ETags, so the first requests are conditional, and its projects. For hosts that keep the
   * source's state between processes (a Worker, in KV).
   */
  readonly resume?: ReadonlyMap<string, SavedRepository> | undefined
}

/**
 * What a repository's synchronisation keeps for the next one, as JSON: the release list's pages
 * with their ETags, checksum file texts, assets by download URL, when it was first seen, and the
 * projects it fed.
 */
export interface SavedRepository {
  readonly pages: ReadonlyArray<readonly [string, GitHubApi.Page]>
  readonly texts: ReadonlyArray<readonly [string, string]>
  readonly assets: ReadonlyArray<readonly [string, GitHubApi.Asset]>
  readonly firstSeen?: string | undefined
  readonly projects?: ReadonlyArray<Project> | undefined
}

/** The source, and each repository's state after its last successful synchronisation. */
export interface Resumable {
  readonly source: ReleaseSourceShape
  readonly saved: Effect.Effect<ReadonlyMap<string, SavedRepository>>
}

// Checksum files are small; anything bigger is not one.
const maxChecksumFileBytes = 1_048_576

/** Incremental state of one repository, replaced only when a synchronisation succeeds. */
interface RepositoryState {
  readonly pages: GitHubApi.PageCache
  /** Checksum file texts by `assetId@updatedAt`: a replaced file has a new key and is read again. */
  readonly texts: ReadonlyMap<string, string>
  readonly assets: ReadonlyMap<string, GitHubApi.Asset>
  readonly firstSeen: string | undefined
  readonly projects: ReadonlyArray<Project> | undefined
}

const textKey = (asset: GitHubApi.Asset) => `${asset.id}@${asset.updated_at}`

const restore = (saved: SavedRepository | undefined): RepositoryState => ({
  pages: new Map(saved?.pages ?? []),
  texts: new Map(saved?.texts ?? []),
  assets: new Map(saved?.assets ?? []),
  firstSeen: saved?.firstSeen,
  projects: saved?.projects
})

const save = (state: RepositoryState): SavedRepository => ({
  pages: [...state.pages],
  texts: [...state.texts],
  assets: [...state.assets],
  ...(state.firstSeen === undefined ? {} : { firstSeen: state.firstSeen }),
  ...(state.projects === undefined ? {} : { projects: state.projects })
})

const unit = (
  client: GitHubApi.GitHubClient,
  repository: string,
  projects: ReadonlyArray<ProjectConfig>,
  saved: SavedRepository | undefined
) => {
  let state: RepositoryState = restore(saved)

  const fetch = Effect.gen(function* () {
    const list = yield* client.listReleases(repository, state.pages)
    if (!list.changed && state.projects !== undefined) return { changed: false, projects: state.projects }
    const published = list.releases.filter((release) => !release.draft)
    const checksumFiles = published.flatMap((release) =>
      release.assets.filter((asset) => asset.state === "uploaded" && GitHubChecksums.classify(asset.name) !== undefined)
    )
    const texts = new Map<string, string>()
    yield* Effect.forEach(
      checksumFiles,
      (asset) => {
        const known = state.texts.get(textKey(asset))
        if (known !== undefined) return Effect.sync(() => texts.set(textKey(asset), known))
        return Effect.map(client.downloadText(asset, maxChecksumFileBytes), (text) => texts.set(textKey(asset), text))
      },
      { concurrency: 4, discard: true }
    )
    const textsOf = (release: GitHubApi.Release) => {
      const byName = new Map<string, string>()
      for (const asset of release.assets) {
        const text = texts.get(textKey(asset))
        if (text !== undefined) byName.set(asset.name, text)
      }
      return byName
    }
    const checksums = (release: GitHubApi.Release): ReadonlyMap<string, Checksum> =>
      GitHubChecksums.resolve(release.assets, textsOf(release))
    const signatures = (release: GitHubApi.Release) => GitHubChecksums.signatures(textsOf(release))
    const firstSeen = state.firstSeen ?? new Date(yield* Clock.currentTimeMillis).toISOString()
    const mapped = projects.map((config) =>
      GitHubCatalog.toProject(config, published, checksums, firstSeen, signatures)
    )
    const skipped = mapped.flatMap((m) => m.skipped)
    if (skipped.length > 0) yield* Effect.logWarning("GitHub releases left out of the catalog", { repository, skipped })
    const assets = new Map(published.flatMap((r) => r.assets.map((a) => [a.browser_download_url, a] as const)))
    state = { pages: list.pages, texts, assets, firstSeen, projects: mapped.map((m) => m.project) }
    return { changed: true, projects: state.projects! }
  })

  return {
    repository,
    unit: { source: "github", target: repository, initial: saved?.projects, fetch } satisfies CatalogSync.SyncUnit,
    assetFor: (url: string) => state.assets.get(url),
    saved: () => save(state)
  }
}

/** Starts the source in the current scope; closing the scope stops its background synchronisation. */
export const make = (options: Options): Effect.Effect<ReleaseSourceShape, never, Scope.Scope> =>
  Effect.map(makeResumable(options), (resumable) => resumable.source)

/** `make`, with each repository's state to save and hand back as `Options.resume` next time. */
export const makeResumable = (options: Options): Effect.Effect<Resumable, never, Scope.Scope> =>
  Effect.gen(function* () {
    const client = GitHubApi.make({
      apiUrl: options.apiUrl ?? "https://api.github.com",
      token: options.token,
      perPage: options.perPage,
      fetch: options.fetch
    })
    // GitHub treats repository names case-insensitively; projects sharing one are fed by one fetch.
    const byRepository = new Map<string, { repository: string; projects: Array<ProjectConfig> }>()
    for (const project of options.projects) {
      const key = project.repository.toLowerCase()
      const entry = byRepository.get(key) ?? { repository: project.repository, projects: [] }
      entry.projects.push(project)
      byRepository.set(key, entry)
    }
    const units = [...byRepository.values()].map((entry) =>
      unit(client, entry.repository, entry.projects, options.resume?.get(entry.repository))
    )
    const engine = yield* CatalogSync.make({
      units: units.map((u) => u.unit),
      interval: options.syncInterval ?? Duration.minutes(5),
      concurrency: options.concurrency,
      background: options.background
    })
    return {
      source: {
        // Read through: the engine's getters answer its current state (see `ReleaseSource`).
        get catalog() {
          return engine.catalog
        },
        get health() {
          return engine.health
        },
        sync: engine.sync,
        artifactRequest: (build) => {
          for (const u of units) {
            const asset = u.assetFor(build.download_url)
            if (asset !== undefined) return client.artifactRequest(asset)
          }
          return undefined
        }
      },
      saved: Effect.sync(() => new Map(units.map((u) => [u.repository, u.saved()])))
    }
  })

/** The source with explicit options, for embedders and tests. */
export const layer = (options: Options): Layer.Layer<ReleaseSource> => Layer.effect(ReleaseSource, make(options))

/**
 * The source as configured: `GITHUB_PROJECTS`, `GITHUB_API_URL`, `GITHUB_SYNC_INTERVAL` and
 * `GITHUB_TOKEN` (see docs/github-sources.md).
 */
export const layerConfig: Layer.Layer<ReleaseSource, Config.ConfigError, GatewayConfig> = Layer.effect(
  ReleaseSource,
  Effect.gen(function* () {
    const settings = yield* githubConfig
    const { githubToken } = yield* GatewayConfig
    return yield* make({
      projects: settings.projects,
      apiUrl: settings.apiUrl,
      token: githubToken._tag === "Some" ? githubToken.value : undefined,
      syncInterval: Duration.seconds(settings.syncIntervalSeconds)
    })
  })
)
