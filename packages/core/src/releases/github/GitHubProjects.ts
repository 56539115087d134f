import { Schema } from "effect"

/**
 * How GitHub-backed projects are declared (`GITHUB_PROJECTS`, a JSON array): which repository backs
 * each project and how its release tags map to channels. Field names are snake_case like the catalog.
 */
const Id = Schema.String.check(Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/))

/** `owner/repo`, as GitHub spells repository names. */
export const Repository = Schema.String.check(
  Schema.isPattern(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/)
)

/**
 * A channel fed by the releases whose tag matches one of `tags` (glob patterns: `*` is any run of
 * characters, `?` one character). Rules are tried in order before the defaults (pre-releases to
 * `beta`, the rest to `stable`).
 */
export const ChannelRule = Schema.Struct({
  id: Id,
  tags: Schema.Array(Schema.NonEmptyString).check(Schema.isMinLength(1)),
  name: Schema.optionalKey(Schema.String),
  description: Schema.optionalKey(Schema.String),
  auto_update: Schema.optionalKey(Schema.Boolean),
  allow_prerelease: Schema.optionalKey(Schema.Boolean)
})
export type ChannelRule = typeof ChannelRule.Type

export const ProjectConfig = Schema.Struct({
  id: Id,
  name: Schema.NonEmptyString,
  description: Schema.optionalKey(Schema.String),
  homepage: Schema.optionalKey(Schema.String),
  repository: Repository,
  /**
   * Only tags starting with this prefix belong to the project, and the prefix is removed before the
   * tag is read as SemVer: several projects can share one repository (`app-v1.2.0`, `cli-v0.3.1`).
   */
  tag_prefix: Schema.optionalKey(Schema.String),
  channels: Schema.optionalKey(Schema.Array(ChannelRule))
})
export type ProjectConfig = typeof ProjectConfig.Type

export const ProjectsConfig = Schema.Array(ProjectConfig)

const escapeRegExp = (text: string) => text.replace(/[.+^${}()|[\]\\]/g, "\\$&")

/** Compiles a tag glob; anchored, so `v*-rc.*` does not match `xv1-rc.1-y` in the middle. */
export const compileGlob = (glob: string): RegExp =>
  new RegExp(`^${escapeRegExp(glob).replace(/\*/g, ".*").replace(/\?/g, ".")}$`)
