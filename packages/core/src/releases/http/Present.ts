import type { Build, Channel } from "../domain/Catalog.ts"
import type { IndexedProject, IndexedVersion } from "../domain/CatalogIndex.ts"
import * as UpdatePolicy from "../domain/UpdatePolicy.ts"
import { keyOf } from "../ports/DownloadStore.ts"

/**
 * Maps the catalog to the API's response shapes. Download counts are the catalog's own plus those
 * the gateway recorded, keyed as `DownloadStore.keyOf`.
 */
export type Counts = ReadonlyMap<string, number>

const titleCase = (id: string) => id.charAt(0).toUpperCase() + id.slice(1)

export const buildDownloads = (counts: Counts, project: string, channel: string, version: string, build: Build) =>
  (build.downloads ?? 0) + (counts.get(keyOf({ project, channel, version, build: build.id })) ?? 0)

/** A version's downloads: its own catalog count plus each build's (catalog and recorded). */
export const versionDownloads = (counts: Counts, project: string, channel: string, version: IndexedVersion) => {
  let total = version.version.downloads ?? 0
  for (const build of version.builds.values())
    total += buildDownloads(counts, project, channel, version.version.id, build)
  return total
}

export const projectSummary = ({ project }: IndexedProject) => ({
  id: project.id,
  name: project.name,
  description: project.description ?? "",
  ...(project.repository === undefined ? {} : { repository: project.repository }),
  channels: project.channels.map((c) => c.id),
  created_at: project.created_at,
  updated_at: project.updated_at
})

const channelSummary = (channel: Channel) => ({
  id: channel.id,
  name: channel.name ?? titleCase(channel.id),
  description: channel.description ?? "",
  auto_update: channel.auto_update ?? channel.id === "stable"
})

/** The project's headline version: the newest the `stable` channel offers, else the first channel's. */
const headlineVersion = (indexed: IndexedProject): string | null => {
  const stable = indexed.channels.get("stable")
  const preferred = stable ? [stable, ...indexed.channels.values()] : [...indexed.channels.values()]
  for (const channel of preferred) {
    const latest = UpdatePolicy.latestOf(channel)
    if (latest !== undefined) return latest.version.id
  }
  return null
}

const projectDownloads = (indexed: IndexedProject, counts: Counts) => {
  let total = 0
  for (const channel of indexed.channels.values()) {
    for (const version of channel.versions)
      total += versionDownloads(counts, indexed.project.id, channel.channel.id, version)
  }
  return total
}

// Until this gateway records a download, a project's details are a function of its catalog entry
// alone: one object per entry, for as long as the entry lives (the direct lane serialises it once).
const catalogOnlyDetails = new WeakMap<IndexedProject, ReturnType<typeof details>>()

export const projectDetails = (indexed: IndexedProject, counts: Counts) => {
  if (counts.size > 0) return details(indexed, projectDownloads(indexed, counts))
  let known = catalogOnlyDetails.get(indexed)
  if (known === undefined) {
    known = details(indexed, projectDownloads(indexed, counts))
    catalogOnlyDetails.set(indexed, known)
  }
  return known
}

const details = (indexed: IndexedProject, totalDownloads: number) => {
  const { project } = indexed
  return {
    id: project.id,
    name: project.name,
    description: project.description ?? "",
    ...(project.repository === undefined ? {} : { repository: project.repository }),
    ...(project.homepage === undefined ? {} : { homepage: project.homepage }),
    channels: project.channels.map(channelSummary),
    latest_version: headlineVersion(indexed),
    total_downloads: totalDownloads,
    created_at: project.created_at,
    updated_at: project.updated_at
  }
}

const versionFields = (counts: Counts, project: string, channel: string, indexed: IndexedVersion) => {
  const { version } = indexed
  return {
    id: version.id,
    name: version.name ?? `v${version.id}`,
    description: version.description ?? "",
    release_notes: version.release_notes ?? "",
    breaking_changes: version.breaking_changes ?? false,
    published_at: version.published_at,
    downloads: versionDownloads(counts, project, channel, indexed)
  }
}

export const versionSummary = (counts: Counts, project: string, channel: string, indexed: IndexedVersion) => ({
  ...versionFields(counts, project, channel, indexed),
  build_count: indexed.builds.size
})

export const versionDetails = (counts: Counts, project: string, channel: string, indexed: IndexedVersion) => ({
  ...versionFields(counts, project, channel, indexed),
  builds: indexed.version.builds.map((build) => ({
    id: build.id,
    platform: build.platform,
    architecture: build.architecture,
    file_size: build.file_size,
    download_url: build.download_url,
    checksum: build.checksum ?? {}
  }))
})

export const buildDetails = (
  counts: Counts,
  project: string,
  channel: string,
  indexed: IndexedVersion,
  build: Build
) => ({
  id: build.id,
  version: indexed.version.id,
  platform: build.platform,
  architecture: build.architecture,
  file_name: build.file_name,
  file_size: build.file_size,
  download_url: build.download_url,
  checksum: build.checksum ?? {},
  created_at: build.created_at ?? indexed.version.published_at,
  downloads: buildDownloads(counts, project, channel, indexed.version.id, build),
  status: build.status ?? "unverified"
})

/** One page of `items`, 1-based. A page past the end is empty, with the true total. */
export const paginate = <A>(items: ReadonlyArray<A>, page: number, perPage: number) => ({
  items: items.slice((page - 1) * perPage, page * perPage),
  total: items.length,
  page,
  per_page: perPage
})
