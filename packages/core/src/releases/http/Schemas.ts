import { Schema } from "effect"
import { Architecture, BuildStatus, Checksum, Platform } from "../domain/Catalog.ts"

/** Response and request bodies of the release and update API, as the spec names their fields. */
const Text = Schema.String
const Count = Schema.Int

export const ProjectSummary = Schema.Struct({
  id: Text,
  name: Text,
  description: Text,
  repository: Schema.optionalKey(Text),
  channels: Schema.Array(Text),
  created_at: Text,
  updated_at: Text
})

export const ChannelSummary = Schema.Struct({
  id: Text,
  name: Text,
  description: Text,
  auto_update: Schema.Boolean
})

export const ProjectDetails = Schema.Struct({
  id: Text,
  name: Text,
  description: Text,
  repository: Schema.optionalKey(Text),
  homepage: Schema.optionalKey(Text),
  channels: Schema.Array(ChannelSummary),
  latest_version: Schema.NullOr(Text),
  total_downloads: Count,
  created_at: Text,
  updated_at: Text
})

const Page = { total: Count, page: Count, per_page: Count }

export const ProjectList = Schema.Struct({ projects: Schema.Array(ProjectSummary), ...Page })

const VersionFields = {
  id: Text,
  name: Text,
  description: Text,
  release_notes: Text,
  breaking_changes: Schema.Boolean,
  published_at: Text,
  downloads: Count
}

export const VersionSummary = Schema.Struct({ ...VersionFields, build_count: Count })
export const VersionList = Schema.Struct({ versions: Schema.Array(VersionSummary), ...Page })

export const BuildSummary = Schema.Struct({
  id: Text,
  platform: Platform,
  architecture: Architecture,
  file_size: Count,
  download_url: Text,
  checksum: Checksum
})

export const VersionDetails = Schema.Struct({ ...VersionFields, builds: Schema.Array(BuildSummary) })

export const BuildDetails = Schema.Struct({
  id: Text,
  version: Text,
  platform: Platform,
  architecture: Architecture,
  file_name: Text,
  file_size: Count,
  download_url: Text,
  checksum: Checksum,
  created_at: Text,
  downloads: Count,
  status: BuildStatus
})

export const UpdateAvailable = Schema.Struct({
  update_available: Schema.Literal(true),
  current_version: Text,
  latest_version: Text,
  breaking_changes: Schema.Boolean,
  release_notes: Text,
  download_url: Text,
  file_size: Count,
  checksum: Checksum,
  published_at: Text
})

export const UpToDate = Schema.Struct({
  update_available: Schema.Literal(false),
  current_version: Text,
  latest_version: Text,
  message: Text
})

export const UpdateResult = Schema.Union([UpdateAvailable, UpToDate])

/** What a client may ask for: `universal` is a kind of build, not a machine. */
export const ClientArchitecture = Schema.Literals(["x64", "arm64"])

export const UpdateQuery = {
  current_version: Schema.String.check(Schema.isMaxLength(256)),
  platform: Platform,
  architecture: ClientArchitecture
}

const Id = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(128))

export const LauncherCheckRequest = Schema.Struct({
  client: Schema.Struct({
    launcher_version: Schema.String.check(Schema.isMaxLength(256)),
    os: Platform,
    os_version: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(256))),
    architecture: ClientArchitecture
  }),
  installed: Schema.Array(
    Schema.Struct({
      project_id: Id,
      version: Schema.String.check(Schema.isMaxLength(256)),
      channel: Schema.optionalKey(Id)
    })
  ).check(Schema.isMaxLength(200))
})

const ItemError = Schema.Struct({ code: Text, message: Text })

export const ProjectUpdate = Schema.Struct({
  project_id: Text,
  update_available: Schema.Boolean,
  current_version: Text,
  latest_version: Schema.optionalKey(Text),
  breaking_changes: Schema.optionalKey(Schema.Boolean),
  download_url: Schema.optionalKey(Text),
  file_size: Schema.optionalKey(Count),
  checksum: Schema.optionalKey(Checksum),
  error: Schema.optionalKey(ItemError)
})

export const LauncherCheckResponse = Schema.Struct({
  updates_available: Schema.Boolean,
  launcher_update: Schema.Struct({
    available: Schema.Boolean,
    current: Text,
    /** Absent when the launcher cannot be answered for; `reason` then says why. */
    latest: Schema.optionalKey(Text),
    breaking_changes: Schema.optionalKey(Schema.Boolean),
    download_url: Schema.optionalKey(Text),
    reason: Schema.optionalKey(Text)
  }),
  project_updates: Schema.Array(ProjectUpdate)
})

export const Pagination = {
  page: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1), Schema.isLessThanOrEqualTo(1_000_000))),
  per_page: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100 })))
}

const SourceStatus = {
  name: Text,
  status: Schema.Literals(["ok", "degraded"]),
  last_success_at: Schema.optionalKey(Text)
}

/** The public probe: statuses only. Error text can name hosts, paths or worse; it goes to the log and to `/admin/sources`. */
export const Health = Schema.Struct({
  status: Schema.Literals(["healthy", "degraded"]),
  timestamp: Text,
  version: Text,
  sources: Schema.Array(Schema.Struct(SourceStatus)),
  /** The stores the request path depends on; `degraded` while one cannot be reached (its fallback serves). */
  stores: Schema.Struct({ rate_limits: Schema.Literals(["ok", "degraded"]) })
})

/** `GET /admin/sources`: each release source's status with its last error, redacted, for the admin. */
export const SourcesDetail = Schema.Struct({
  sources: Schema.Array(Schema.Struct({ ...SourceStatus, last_error: Schema.optionalKey(Text) }))
})

/** `GET /health/live`: the process runs and answers. */
export const Liveness = Schema.Struct({ status: Schema.Literal("live") })

/** `GET /health/ready`: the catalog is loaded and every store answers. */
export const Readiness = Schema.Struct({
  status: Schema.Literal("ready"),
  checks: Schema.Record(Schema.String, Schema.Literal("ok"))
})
