import { Duration, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as NodeArtifactDigest from "../../../adapter-node/src/NodeArtifactDigest.ts"
import { securityHeaders } from "../../src/http/Edge.ts"
import * as GitHubReleaseSource from "../../src/releases/github/GitHubReleaseSource.ts"
import * as ReleaseSource from "../../src/releases/ports/ReleaseSource.ts"
import * as BuildVerification from "../../src/releases/services/BuildVerification.ts"
import { digests, type FakeGitHub, startFakeGitHub } from "./FakeGitHub.ts"
import { admin, eventually, ports, reader, serve } from "./support.ts"

const good = "good windows build"
const fileCatalog = {
  projects: [
    {
      id: "trackly",
      name: "Trackly",
      created_at: "2026-01-01T00:00:00Z",
      updated_at: "2026-01-01T00:00:00Z",
      channels: [{ id: "stable", versions: [] }]
    }
  ]
}

/** The file catalog and GitHub combined, with verification around both, as a host would wire them. */
const sources = (github: FakeGitHub) =>
  BuildVerification.layer({ pollInterval: Duration.millis(20) }).pipe(
    Layer.provide(
      ReleaseSource.layerCombined(
        ReleaseSource.layerMemory(fileCatalog),
        GitHubReleaseSource.layer({
          projects: [{ id: "app", name: "App", repository: "o/app" }],
          apiUrl: github.url,
          syncInterval: Duration.hours(1)
        })
      )
    ),
    Layer.provide(NodeArtifactDigest.layer)
  )

let github: FakeGitHub
let gateway: Awaited<ReturnType<typeof serve>>
beforeAll(async () => {
  github = await startFakeGitHub()
  github.release("o/app", {
    tag: "v1.0.0",
    assets: [
      { name: "app-1.0.0-win-x64.exe", content: good },
      { name: "app-1.0.0-win-x64.exe.sha256", content: digests.sha256(good) }
    ]
  })
  github.release("o/app", {
    tag: "v1.1.0",
    assets: [
      { name: "app-1.1.0-win-x64.exe", content: "tampered" },
      { name: "app-1.1.0-win-x64.exe.sha256", content: digests.sha256("what was built") }
    ]
  })
  gateway = await serve(await ports(sources(github), { CACHE_TTL: "60000" }))
})
afterAll(async () => {
  await gateway?.close()
  await github?.close()
})

const get = (path: string, headers: Record<string, string> = reader) => fetch(gateway.url(path), { headers })
const sync = (headers: Record<string, string> = admin) => fetch(gateway.url("/admin/sync"), { method: "POST", headers })
const updatePath = "/projects/app/channels/stable/update?current_version=0.9.0&platform=windows&architecture=x64"

describe("GitHub releases through the gateway", () => {
  it("serves the file catalog's projects and GitHub's together", async () => {
    expect((await sync()).status).toBe(200)
    const body = await (await get("/projects")).json()
    expect(body.projects.map((p: { id: string }) => p.id)).toEqual(["trackly", "app"])
    expect(body.projects[1]).toMatchObject({ repository: "o/app", channels: ["stable", "beta"] })
  })

  it("never offers a build whose checksum does not match", async () => {
    await sync()
    const status = await eventually(async () => {
      const build = await (await get("/projects/app/channels/stable/versions/1.1.0/builds/windows-x64")).json()
      return build.status === "checksum_mismatch" ? build.status : undefined
    })
    expect(status).toBe("checksum_mismatch")
    const good = await (await get("/projects/app/channels/stable/versions/1.0.0/builds/windows-x64")).json()
    expect(good.status).toBe("verified")
    const update = await (await get(updatePath)).json()
    expect(update).toMatchObject({ update_available: true, latest_version: "1.0.0" })
  })
})

describe("conditional responses", () => {
  it("sends a strong ETag and Cache-Control from CACHE_TTL on catalog reads", async () => {
    await sync()
    const response = await get("/projects/app")
    expect(response.status).toBe(200)
    expect(response.headers.get("etag")).toMatch(/^"[a-f0-9]{32}"$/)
    expect(response.headers.get("cache-control")).toBe("private, max-age=60")
    expect(response.headers.get("vary")).toMatch(/Authorization/)
  })

  it("answers If-None-Match with a bodiless 304 that keeps the request id and security headers", async () => {
    const first = await get("/projects")
    const etag = first.headers.get("etag")!
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const response = await get("/projects", { ...reader, "if-none-match": ifNoneMatch })
      expect(response.status).toBe(304)
      expect(await response.text()).toBe("")
      expect(response.headers.get("etag")).toBe(etag)
      expect(response.headers.get("cache-control")).toBe("private, max-age=60")
      expect(response.headers.get("x-request-id")).toMatch(/^req_[a-z0-9]{20}$/)
      for (const [name, value] of Object.entries(securityHeaders)) expect(response.headers.get(name)).toBe(value)
    }
    const stale = await get("/projects", { ...reader, "if-none-match": '"stale"' })
    expect(stale.status).toBe(200)
  })

  it("does the same under /api/v2", async () => {
    const plain = await get("/projects/app/channels/stable/versions")
    const prefixed = await get("/api/v2/projects/app/channels/stable/versions")
    expect(prefixed.headers.get("etag")).toBe(plain.headers.get("etag"))
    const revalidated = await get("/api/v2/projects/app/channels/stable/versions", {
      ...reader,
      "if-none-match": plain.headers.get("etag")!
    })
    expect(revalidated.status).toBe(304)
  })

  it("makes update checks revalidate every time", async () => {
    const response = await get(updatePath)
    expect(response.headers.get("cache-control")).toBe("private, no-cache")
    const etag = response.headers.get("etag")!
    expect((await get(updatePath, { ...reader, "if-none-match": etag })).status).toBe(304)
    const other = await get(updatePath.replace("0.9.0", "1.0.0"), { ...reader, "if-none-match": etag })
    expect(other.status).toBe(200)
  })

  it("leaves errors and other endpoints alone", async () => {
    const missing = await get("/projects/nope", { ...reader, "if-none-match": "*" })
    expect(missing.status).toBe(404)
    expect(missing.headers.get("etag")).toBeNull()
    expect((await get("/health")).headers.get("etag")).toBeNull()
  })
})

describe("POST /admin/sync", () => {
  it("requires the admin key", async () => {
    expect((await sync({})).status).toBe(401)
    const forbidden = await sync(reader)
    expect(forbidden.status).toBe(403)
    expect((await forbidden.json()).error.code).toBe("FORBIDDEN")
  })

  it("reports each repository, and 304s as unchanged", async () => {
    await sync()
    const response = await sync()
    expect(response.status).toBe(200)
    const body = await response.json()
    expect(Date.parse(body.synced_at)).not.toBeNaN()
    expect(body.sources).toEqual([
      { source: "github", target: "o/app", status: "unchanged", projects: ["app"], duration_ms: expect.any(Number) }
    ])
  })

  it("keeps every client request working while GitHub refuses, and shows it in /health and /admin/sources", async () => {
    github.refuse({ status: 429, retryAfter: 1 })
    try {
      const body = await (await sync()).json()
      expect(body.sources[0]).toMatchObject({ status: "failed", error: { code: "UPSTREAM_RATE_LIMITED" } })
      const projects = await get("/projects")
      expect(projects.status).toBe(200)
      expect((await projects.json()).projects.map((p: { id: string }) => p.id)).toEqual(["trackly", "app"])
      expect((await get(updatePath)).status).toBe(200)
      // The public probe carries statuses only; the error's text is for the admin (and the log).
      const health = await (await get("/health", {})).json()
      expect(health.status).toBe("degraded")
      expect(health.sources).toEqual([
        { name: "memory", status: "ok" },
        { name: "github:o/app", status: "degraded", last_success_at: expect.any(String) }
      ])
      const detailed = await (await get("/admin/sources", admin)).json()
      expect(detailed.sources[1]).toEqual({
        name: "github:o/app",
        status: "degraded",
        last_success_at: expect.any(String),
        last_error: expect.stringMatching(/rate limit/)
      })
      expect((await get("/admin/sources")).status).toBe(403)
    } finally {
      github.refuse(undefined)
    }
  })
})
