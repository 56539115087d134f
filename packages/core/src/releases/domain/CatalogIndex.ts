import type { Build, CatalogDocument, Channel, Project, Version } from "./Catalog.ts"
import * as Semver from "./Semver.ts"

/**
 * A catalog document prepared for serving: lookups by id in O(1) and each channel's versions parsed
 * and sorted newest first, once per catalog rather than once per request.
 */
export interface IndexedVersion {
  readonly version: Version
  readonly semver: Semver.SemVer
  readonly builds: ReadonlyMap<string, Build>
}

export interface IndexedChannel {
  readonly channel: Channel
  readonly allowPrerelease: boolean
  /** Newest first by SemVer precedence. */
  readonly versions: ReadonlyArray<IndexedVersion>
  readonly versionsById: ReadonlyMap<string, IndexedVersion>
}

export interface IndexedProject {
  readonly project: Project
  readonly channels: ReadonlyMap<string, IndexedChannel>
}

export interface CatalogIndex {
  readonly projects: ReadonlyArray<IndexedProject>
  readonly projectsById: ReadonlyMap<string, IndexedProject>
}

/** Problems that make a document unusable even though each field is well-formed. */
export const consistencyProblems = (document: CatalogDocument): ReadonlyArray<string> => {
  const problems: Array<string> = []
  const duplicates = (path: string, ids: ReadonlyArray<string>) => {
    const seen = new Set<string>()
    for (const id of ids) {
      if (seen.has(id)) problems.push(`${path}: duplicate id '${id}'`)
      seen.add(id)
    }
  }
  duplicates(
    "projects",
    document.projects.map((p) => p.id)
  )
  for (const project of document.projects) {
    duplicates(
      `projects.${project.id}.channels`,
      project.channels.map((c) => c.id)
    )
    for (const channel of project.channels) {
      const path = `projects.${project.id}.channels.${channel.id}.versions`
      // Versions that differ only in build metadata have equal precedence and would be ambiguous.
      duplicates(
        path,
        channel.versions.map((v) => Semver.format({ ...Semver.parse(v.id)!, build: [] }))
      )
      for (const version of channel.versions) {
        duplicates(
          `${path}.${version.id}.builds`,
          version.builds.map((b) => b.id)
        )
      }
    }
  }
  return problems
}

const indexVersion = (version: Version): IndexedVersion => ({
  version,
  semver: Semver.parse(version.id)!,
  builds: new Map(version.builds.map((build) => [build.id, build]))
})

const indexChannel = (channel: Channel): IndexedChannel => {
  const versions = channel.versions.map(indexVersion).sort((a, b) => Semver.compare(b.semver, a.semver))
  return {
    channel,
    allowPrerelease: channel.allow_prerelease ?? channel.id !== "stable",
    versions,
    versionsById: new Map(versions.map((v) => [v.version.id, v]))
  }
}

/** Indexes a document that passed schema decoding and has no consistency problems. */
export const make = (document: CatalogDocument): CatalogIndex => {
  const projects = document.projects.map((project) => ({
    project,
    channels: new Map(project.channels.map((channel) => [channel.id, indexChannel(channel)]))
  }))
  return { projects, projectsById: new Map(projects.map((p) => [p.project.id, p])) }
}

export const empty: CatalogIndex = make({ projects: [] })
