import type {
  Architecture,
  Build,
  BuildStatus,
  CatalogDocument,
  Channel,
  Platform,
  Project,
  Version
} from "../src/releases/domain/Catalog.ts"
import * as CatalogIndex from "../src/releases/domain/CatalogIndex.ts"

/**
 * Small hand-written catalogs: each test states only the versions and builds that matter to it.
 * Every document built here passes `CatalogLoader.load`.
 */
const timestamp = "2026-01-01T00:00:00Z"

export const build = (
  platform: Platform,
  architecture: Architecture,
  options: { readonly status?: BuildStatus; readonly id?: string } = {}
): Build => ({
  id: options.id ?? `${platform}-${architecture}`,
  platform,
  architecture,
  file_name: `app-${platform}-${architecture}.bin`,
  file_size: 1024,
  download_url: `https://cdn.example.test/app/${platform}-${architecture}.bin`,
  ...(options.status === undefined ? {} : { status: options.status })
})

/** One build for every platform and client architecture (no universal build). */
export const everyBuild: ReadonlyArray<Build> = [
  build("windows", "x64"),
  build("windows", "arm64"),
  build("macos", "x64"),
  build("macos", "arm64"),
  build("linux", "x64"),
  build("linux", "arm64")
]

export const version = (
  id: string,
  options: { readonly breaking?: boolean; readonly builds?: ReadonlyArray<Build> } = {}
): Version => ({
  id,
  published_at: timestamp,
  ...(options.breaking === undefined ? {} : { breaking_changes: options.breaking }),
  builds: options.builds ?? everyBuild
})

export const channel = (
  id: string,
  versions: ReadonlyArray<Version>,
  options: { readonly allowPrerelease?: boolean } = {}
): Channel => ({
  id,
  ...(options.allowPrerelease === undefined ? {} : { allow_prerelease: options.allowPrerelease }),
  versions
})

export const project = (id: string, channels: ReadonlyArray<Channel>): Project => ({
  id,
  name: id.charAt(0).toUpperCase() + id.slice(1),
  created_at: timestamp,
  updated_at: timestamp,
  channels
})

export const catalog = (...projects: ReadonlyArray<Project>): CatalogDocument => ({ projects })

/** Indexes one channel on its own, the way `CatalogIndex.make` prepares it for serving. */
export const indexChannel = (value: Channel): CatalogIndex.IndexedChannel => {
  const indexed = CatalogIndex.make(catalog(project("app", [value]))).projectsById.get("app")
  const found = indexed?.channels.get(value.id)
  if (found === undefined) throw new Error(`channel '${value.id}' was not indexed`)
  return found
}
