import type { Exchange } from "./answers.ts"

/** The `API_KEY_ADMIN` both gateways are configured with. */
export const adminKey = "lbapi_workers_suite_admin_key_0123456789"

// Rate-limit buckets refill continuously, so two gateways asked a few milliseconds apart could
// report different remaining counts; over a year-long window nothing refills during the suite.
const year = String(365 * 24 * 3600)

/** The configuration both gateways run with, as string bindings and as environment. */
export const gatewayEnv = {
  API_KEY_ADMIN: adminKey,
  RATE_LIMIT_KEY_WINDOW: year,
  RATE_LIMIT_IP_WINDOW: year,
  RATE_LIMIT_UNAUTHENTICATED_WINDOW: year
}

const key = adminKey
const json = { "content-type": "application/json" }
const build = "/projects/trackly/channels/stable/versions/1.2.5/builds/windows-x64"

const launcherCheck = JSON.stringify({
  client: { launcher_version: "2.0.0", os: "windows", architecture: "x64" },
  installed: [
    { project_id: "trackly", version: "1.1.0" },
    { project_id: "csviewer", version: "3.1.0-rc.1", channel: "beta" },
    { project_id: "nope", version: "1.0.0" }
  ]
})

/**
 * The requests both gateways answer, in order: the download is recorded, so the project details
 * asked for after it show the count it added on each side.
 */
export const exchanges: ReadonlyArray<Exchange> = [
  { name: "health", path: "/health", status: 200, includes: { status: "healthy", version: "2.0.0" } },
  { name: "OpenAPI document", path: "/openapi.json", status: 200, includes: { openapi: "3.1.0" } },
  { name: "project list", path: "/projects", key, status: 200, includes: { total: 3 } },
  { name: "project details", path: "/projects/trackly", key, status: 200, includes: { id: "trackly" } },
  {
    name: "versions, second page",
    path: "/projects/trackly/channels/stable/versions?page=2&per_page=2",
    key,
    status: 200,
    includes: { page: 2, per_page: 2 }
  },
  { name: "latest version", path: "/projects/trackly/channels/beta/latest", key, status: 200 },
  { name: "version details", path: "/projects/trackly/channels/stable/versions/1.2.5", key, status: 200 },
  { name: "build details", path: build, key, status: 200, includes: { id: "windows-x64" } },
  { name: "download redirect", path: `${build}/download`, key, status: 302 },
  { name: "project details after a download", path: "/projects/trackly", key, status: 200 },
  {
    name: "update check",
    path: "/projects/trackly/channels/stable/update?current_version=1.1.0&platform=windows&architecture=x64",
    key,
    status: 200,
    includes: { update_available: true, latest_version: "1.2.5" }
  },
  {
    name: "update check, up to date",
    path: "/projects/trackly/channels/stable/update?current_version=1.2.5&platform=linux&architecture=arm64",
    key,
    status: 200,
    includes: { update_available: false }
  },
  {
    name: "launcher check",
    method: "POST",
    path: "/update/check",
    key,
    headers: json,
    body: launcherCheck,
    status: 200
  },
  { name: "v2 health", path: "/api/v2/health", status: 200 },
  { name: "v2 project list", path: "/api/v2/projects?per_page=1", key, status: 200 },
  { name: "v2 build download", path: `/api/v2${build}/download`, key, status: 302 },
  {
    name: "v2 launcher check",
    method: "POST",
    path: "/api/v2/update/check",
    key,
    headers: json,
    body: launcherCheck,
    status: 200
  },
  { name: "no key", path: "/projects", status: 401, includes: { error: { code: "UNAUTHORIZED" } } },
  { name: "wrong key", path: "/projects", key: "lbapi_not_a_key", status: 401 },
  { name: "unknown route without a key", path: "/admin/secrets", status: 401 },
  { name: "unknown route", path: "/nowhere", key, status: 404, includes: { error: { code: "NOT_FOUND" } } },
  {
    name: "unknown project",
    path: "/projects/nope",
    key,
    status: 404,
    includes: {
      error: {
        code: "PROJECT_NOT_FOUND",
        details: { available_projects: ["trackly", "csviewer", "lunarbit-launcher"] }
      }
    }
  },
  { name: "unknown version", path: "/projects/trackly/channels/stable/versions/9.9.9", key, status: 404 },
  { name: "unknown build", path: build.replace("windows-x64", "amiga-m68k"), key, status: 404 },
  {
    name: "invalid version",
    path: "/projects/trackly/channels/stable/update?current_version=banana&platform=windows&architecture=x64",
    key,
    status: 400,
    includes: { error: { code: "INVALID_VERSION" } }
  },
  { name: "invalid query", path: "/projects?per_page=1000", key, status: 400 },
  {
    name: "wrong method",
    method: "DELETE",
    path: "/projects",
    key,
    status: 405,
    includes: { error: { code: "METHOD_NOT_ALLOWED", details: { allowed_methods: ["GET"] } } }
  },
  { name: "v2 wrong method", method: "PUT", path: "/api/v2/update/check", key, headers: json, body: "{}", status: 405 },
  {
    name: "malformed JSON",
    method: "POST",
    path: "/update/check",
    key,
    headers: json,
    body: "{nope",
    status: 400,
    includes: { error: { code: "INVALID_REQUEST" } }
  },
  {
    name: "invalid body",
    method: "POST",
    path: "/update/check",
    key,
    headers: json,
    body: '{"installed":[]}',
    status: 400
  },
  {
    name: "wrong content type",
    method: "POST",
    path: "/update/check",
    key,
    headers: { "content-type": "text/plain" },
    body: launcherCheck,
    status: 415
  },
  {
    name: "body over the limit",
    method: "POST",
    path: "/update/check",
    key,
    headers: json,
    body: `{"pad":"${"x".repeat(1_100_000)}"}`,
    status: 413,
    includes: { error: { code: "PAYLOAD_TOO_LARGE" } }
  }
]
