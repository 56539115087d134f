import type { Channel, Checksum, Project, Version } from "../domain/Catalog.ts"
import * as Semver from "../domain/Semver.ts"
import type { Release } from "./GitHubApi.ts"
import * as GitHubAssets from "./GitHubAssets.ts"
import { compileGlob, type ProjectConfig } from "./GitHubProjects.ts"

/**
 * GitHub releases as catalog versions. Drafts are never served; each published release goes to the
 * first channel whose tag pattern matches its tag, else pre-releases to `beta` and the rest to
 * `stable`. The tag (without the project's prefix) is the SemVer version; tags that are not SemVer
 * are skipped and reported.
 */
export interface Mapped {
  readonly project: Project
  /** Tags of published releases that were left out, with the reason. */
  readonly skipped: ReadonlyArray<string>
}

// Conventional Commits' `BREAKING CHANGE` (upper case, so "no breaking changes" in prose does not
// count), a heading that mentions breaking changes, or a `Breaking:` line.
const breakingUpper = /\bBREAKING[ _-]CHANGES?\b/
const breakingLine = /^\s{0,3}#{1,6}[^\n]*\bbreaking\b|^\s*(?:[-*+]\s+)?\**breaking\**\s*:/im

export const hasBreakingMarker = (notes: string): boolean => breakingUpper.test(notes) || breakingLine.test(notes)

interface Candidate {
  readonly release: Release
  readonly semver: Semver.SemVer
  readonly channel: string
  readonly publishedAt: string
}

const precedenceKey = (semver: Semver.SemVer) => Semver.format({ ...semver, build: [] })

/**
 * Maps one project's releases. `checksums(release)` gives the checksums of the release's files by
 * name, `signatures(release)` their Tauri signatures; `firstSeen` dates a project that has no release yet.
 */
export const toProject = (
  config: ProjectConfig,
  releases: ReadonlyArray<Release>,
  checksums: (release: Release) => ReadonlyMap<string, Checksum>,
  firstSeen: string,
  signatures: (release: Release) => ReadonlyMap<string, string> = () => new Map()
): Mapped => {
  const rules = (config.channels ?? []).map((rule) => ({ rule, patterns: rule.tags.map(compileGlob) }))
  const prefix = config.tag_prefix ?? ""
  const skipped: Array<string> = []
  // Two tags of equal precedence (`v1.0.0`, `1.0.0`) would be ambiguous: the later publication wins.
  const byKey = new Map<string, Candidate>()
  for (const release of releases) {
    if (release.draft || release.published_at === null || !release.tag_name.startsWith(prefix)) continue
    const semver = Semver.parse(release.tag_name.slice(prefix.length))
    if (semver === undefined) {
      skipped.push(`${release.tag_name}: not a SemVer version`)
      continue
    }
    const channel =
      rules.find(({ patterns }) => patterns.some((p) => p.test(release.tag_name)))?.rule.id ??
      (release.prerelease ? "beta" : "stable")
    const key = `${channel}/${precedenceKey(semver)}`
    const existing = byKey.get(key)
    if (existing === undefined || existing.publishedAt < release.published_at) {
      byKey.set(key, { release, semver, channel, publishedAt: release.published_at })
    }
  }

  const channelIds = [...new Set(["stable", "beta", ...rules.map(({ rule }) => rule.id)])]
  const channels: Array<Channel> = channelIds.map((id) => {
    const rule = rules.find(({ rule }) => rule.id === id)?.rule
    const candidates = [...byKey.values()]
      .filter((c) => c.channel === id)
      .sort((a, b) => Semver.compare(a.semver, b.semver))
    const versions = candidates.map((candidate, i): Version => {
      const { release } = candidate
      const notes = release.body ?? ""
      const previous = candidates[i - 1]
      const title = release.name?.trim()
      return {
        id: Semver.format(candidate.semver),
        name: release.tag_name,
        ...(title && title !== release.tag_name ? { description: title } : {}),
        release_notes: notes,
        breaking_changes:
          hasBreakingMarker(notes) || (previous !== undefined && previous.semver.major < candidate.semver.major),
        published_at: candidate.publishedAt,
        builds: GitHubAssets.toBuilds(
          release.assets.filter((asset) => asset.state === "uploaded"),
          checksums(release),
          signatures(release)
        )
      }
    })
    return {
      id,
      ...(rule?.name === undefined ? {} : { name: rule.name }),
      ...(rule?.description === undefined ? {} : { description: rule.description }),
      ...(rule?.auto_update === undefined ? {} : { auto_update: rule.auto_update }),
      ...(rule?.allow_prerelease === undefined ? {} : { allow_prerelease: rule.allow_prerelease }),
      versions: versions.reverse()
    }
  })

  const published = [...byKey.values()].map((c) => c.publishedAt).sort()
  return {
    project: {
      id: config.id,
      name: config.name,
      ...(config.description === undefined ? {} : { description: config.description }),
      repository: config.repository,
      ...(config.homepage === undefined ? {} : { homepage: config.homepage }),
      created_at: published[0] ?? firstSeen,
      updated_at: published.at(-1) ?? firstSeen,
      channels
    },
    skipped
  }
}
