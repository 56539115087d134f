import { ApiKeyFormat } from "@lunarbit/gateway-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { adminKey, auth, type RunningGateway, startGateway } from "./support/gateway.ts"

let gateway: RunningGateway
beforeAll(async () => {
  gateway = await startGateway()
})
afterAll(() => gateway.close())

const get = (path: string, headers: Record<string, string> = auth) =>
  fetch(gateway.url(path), { headers, redirect: "manual" })
const post = (
  path: string,
  body: string,
  headers: Record<string, string> = { ...auth, "content-type": "application/json" }
) => fetch(gateway.url(path), { method: "POST", headers, body })

/** Asserts the spec's error envelope and returns its `error` object. */
const expectError = async (response: Response, status: number, code: string) => {
  expect(response.status).toBe(status)
  expect(response.headers.get("content-type")).toMatch(/application\/json/)
  const body = (await response.json()) as { error: Record<string, any> }
  expect(Object.keys(body.error).sort()).toEqual(["code", "details", "documentation_url", "message", "request_id"])
  expect(body.error.code).toBe(code)
  expect(body.error.request_id).toMatch(/^req_[a-z0-9]{20}$/)
  expect(body.error.request_id).toBe(response.headers.get("x-request-id"))
  expect(body.error.documentation_url).toBe(`https://docs.lunarbit.dev/api-errors#${code}`)
  expect(JSON.stringify(body)).not.toMatch(/\bat .*\.ts:\d+/)
  return body.error
}

const securityHeaders = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "x-xss-protection": "1; mode=block",
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "content-security-policy": "default-src 'self'"
}

describe("GET /health", () => {
  it("answers without authentication with status, timestamp and version", async () => {
    const response = await get("/health", {})
    expect(response.status).toBe(200)
    const body = await response.json()
    expect(body).toMatchObject({ status: "healthy", version: "2.0.0" })
    expect(Date.parse(body.timestamp)).not.toBeNaN()
    expect(body.sources[0]).toMatchObject({ name: "file:catalog.json", status: "ok" })
  })

  it("carries the security headers and a request id", async () => {
    const response = await get("/health", {})
    for (const [name, value] of Object.entries(securityHeaders)) expect(response.headers.get(name)).toBe(value)
    expect(response.headers.get("x-request-id")).toMatch(/^req_[a-z0-9]{20}$/)
  })
})

describe("authentication", () => {
  it("refuses a missing key with 401 and the security headers", async () => {
    const response = await get("/projects", {})
    const error = await expectError(response, 401, "UNAUTHORIZED")
    expect(error.details.reason).toBe("missing")
    for (const [name, value] of Object.entries(securityHeaders)) expect(response.headers.get(name)).toBe(value)
  })

  it("refuses an unknown key and a key with the wrong scheme", async () => {
    const unknown = await get("/projects", { authorization: `Bearer ${ApiKeyFormat.generate()}` })
    expect((await expectError(unknown, 401, "UNAUTHORIZED")).details.reason).toBe("unknown")
    // A mistyped key fails its checksum and is refused without a store lookup.
    const mistyped = await get("/projects", { authorization: "Bearer lbapi_nope" })
    expect((await expectError(mistyped, 401, "UNAUTHORIZED")).details.reason).toBe("malformed")
    await expectError(await get("/projects", { authorization: `ApiKey ${adminKey}` }), 401, "UNAUTHORIZED")
  })

  it("runs before validation: an unauthenticated probe learns nothing about input shape", async () => {
    await expectError(
      await post("/update/check", "{not json", { "content-type": "application/json" }),
      401,
      "UNAUTHORIZED"
    )
    await expectError(await get("/projects/trackly/channels/stable/update?platform=amiga", {}), 401, "UNAUTHORIZED")
    await expectError(await get("/projects?per_page=9999", {}), 401, "UNAUTHORIZED")
  })

  it("does not reveal which protected paths exist to unauthenticated callers", async () => {
    await expectError(await get("/no/such/route", {}), 401, "UNAUTHORIZED")
    await expectError(await fetch(gateway.url("/projects"), { method: "DELETE" }), 401, "UNAUTHORIZED")
  })
})

describe("unknown routes and methods", () => {
  it("answers 404 NOT_FOUND to an authenticated caller", async () => {
    expect((await expectError(await get("/no/such/route"), 404, "NOT_FOUND")).details.path).toBe("/no/such/route")
  })

  it("answers 405 with the allowed methods", async () => {
    const error = await expectError(
      await fetch(gateway.url("/projects"), { method: "DELETE", headers: auth }),
      405,
      "METHOD_NOT_ALLOWED"
    )
    expect(error.details.allowed_methods).toEqual(["GET"])
    const publicPath = await expectError(
      await fetch(gateway.url("/health"), { method: "POST" }),
      405,
      "METHOD_NOT_ALLOWED"
    )
    expect(publicPath.details.allowed_methods).toEqual(["GET"])
  })
})

describe("hostile requests", () => {
  it("answers a path the router cannot decode, or with an overlong id, with 400 rather than 405", async () => {
    const malformed = await expectError(await get("/projects/%E0%A4%A"), 400, "INVALID_REQUEST")
    expect(malformed.message).toContain("malformed")
    await expectError(await get(`/projects/${"a".repeat(5000)}`), 400, "INVALID_REQUEST")
  })

  it("answers headers too large for the parser in the envelope, with a request id and security headers", async () => {
    const { request } = await import("node:http")
    const url = new URL(gateway.url("/projects"))
    const answer = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
      (resolve, reject) => {
        const req = request(
          { host: url.hostname, port: url.port, path: url.pathname, headers: { ...auth, "x-big": "x".repeat(20_000) } },
          (res) => {
            let body = ""
            res.on("data", (chunk) => (body += chunk))
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
          }
        )
        req.on("error", reject)
        req.end()
      }
    )
    expect(answer.status).toBe(431)
    const { error } = JSON.parse(answer.body)
    expect(error.code).toBe("HEADERS_TOO_LARGE")
    expect(error.request_id).toBe(answer.headers["x-request-id"])
    expect(answer.headers["x-frame-options"]).toBe("DENY")
  })

  it("refuses repeated and nested input without a fault", async () => {
    const repeated = await expectError(
      await get(
        "/projects/trackly/channels/stable/update?current_version=1.0.0&current_version=2.0.0&platform=windows&architecture=x64"
      ),
      400,
      "INVALID_REQUEST"
    )
    expect(repeated.details.issues[0].field).toBe("query.current_version")
    await expectError(await post("/update/check", "[".repeat(100_000)), 400, "INVALID_REQUEST")
    const traversal = await expectError(await get("/projects/..%2F..%2Fetc"), 404, "PROJECT_NOT_FOUND")
    expect(traversal.details.project).toBe("../../etc")
  })
})

describe("projects", () => {
  it("lists the projects with pagination fields", async () => {
    const body = await (await get("/projects")).json()
    expect(body).toMatchObject({ total: 3, page: 1, per_page: 20 })
    expect(body.projects.map((p: any) => p.id)).toEqual(["trackly", "csviewer", "lunarbit-launcher"])
    expect(body.projects[0]).toEqual({
      id: "trackly",
      name: "Trackly",
      description: "Business asset management system with license tracking",
      repository: "LunarBit-dev/Trackly",
      channels: ["stable", "beta", "dev"],
      created_at: "2025-01-15T10:00:00Z",
      updated_at: "2026-02-07T08:30:00Z"
    })
  })

  it("pages through projects", async () => {
    const body = await (await get("/projects?page=2&per_page=2")).json()
    expect(body).toMatchObject({ total: 3, page: 2, per_page: 2 })
    expect(body.projects.map((p: any) => p.id)).toEqual(["lunarbit-launcher"])
    const past = await (await get("/projects?page=9&per_page=2")).json()
    expect(past).toMatchObject({ projects: [], total: 3, page: 9 })
  })

  it("rejects out-of-range and malformed pagination with the field path", async () => {
    for (const query of ["per_page=0", "per_page=101", "page=0", "page=abc", "per_page=2.5"]) {
      const error = await expectError(await get(`/projects?${query}`), 400, "INVALID_REQUEST")
      expect(error.details.issues[0].field).toBe(`query.${query.split("=")[0]}`)
    }
  })

  it("details a project with channels, latest version and downloads", async () => {
    const body = await (await get("/projects/trackly")).json()
    expect(body).toMatchObject({
      id: "trackly",
      homepage: "https://trackly.lunarbit.dev",
      latest_version: "1.2.5",
      channels: [
        { id: "stable", name: "Stable", description: "Production-ready releases", auto_update: true },
        { id: "beta", name: "Beta", description: "Preview releases for testing", auto_update: false },
        { id: "dev", name: "Dev", description: "Nightly builds from the main branch", auto_update: false }
      ]
    })
    expect(body.total_downloads).toBeGreaterThan(12_000)
  })

  it("answers PROJECT_NOT_FOUND listing the available projects", async () => {
    const error = await expectError(await get("/projects/nonexistent"), 404, "PROJECT_NOT_FOUND")
    expect(error.message).toBe("Project 'nonexistent' not found")
    expect(error.details).toEqual({
      project: "nonexistent",
      available_projects: ["trackly", "csviewer", "lunarbit-launcher"]
    })
  })
})

describe("versions", () => {
  const base = "/projects/trackly/channels/stable"

  it("lists newest first by default, oldest first with sort=asc", async () => {
    const desc = await (await get(`${base}/versions`)).json()
    expect(desc.versions.map((v: any) => v.id)).toEqual(["1.2.5", "1.2.3", "1.2.0", "1.1.0", "1.0.0"])
    expect(desc).toMatchObject({ total: 5, page: 1, per_page: 20 })
    expect(desc.versions[0]).toMatchObject({ name: "v1.2.5", breaking_changes: false, build_count: 7 })
    const asc = await (await get(`${base}/versions?sort=asc&per_page=2&page=2`)).json()
    expect(asc.versions.map((v: any) => v.id)).toEqual(["1.2.0", "1.2.3"])
  })

  it("rejects an unknown sort order", async () => {
    const error = await expectError(await get(`${base}/versions?sort=sideways`), 400, "INVALID_REQUEST")
    expect(error.details.issues[0].field).toBe("query.sort")
  })

  it("answers CHANNEL_NOT_FOUND listing the project's channels", async () => {
    const error = await expectError(await get("/projects/trackly/channels/nightly/versions"), 404, "CHANNEL_NOT_FOUND")
    expect(error.details.available_channels).toEqual(["stable", "beta", "dev"])
  })

  it("details a version with its builds, by id or by any SemVer spelling", async () => {
    const body = await (await get(`${base}/versions/1.2.5`)).json()
    expect(body).toMatchObject({
      id: "1.2.5",
      name: "v1.2.5",
      breaking_changes: false,
      published_at: "2026-02-05T14:30:00Z"
    })
    expect(body.builds.map((b: any) => b.id)).toContain("macos-universal")
    expect(body.builds[0]).toEqual({
      id: "windows-x64",
      platform: "windows",
      architecture: "x64",
      file_size: expect.any(Number),
      download_url: "https://cdn.lunarbit.dev/trackly/1.2.5/trackly-1.2.5-win-x64.exe",
      checksum: {
        sha256: expect.stringMatching(/^[a-f0-9]{64}$/),
        md5: expect.stringMatching(/^[a-f0-9]{32}$/),
        sha512: expect.stringMatching(/^[A-Za-z0-9+/]{86}==$/)
      }
    })
    expect((await (await get(`${base}/versions/v1.2.5`)).json()).id).toBe("1.2.5")
  })

  it("answers VERSION_NOT_FOUND", async () => {
    await expectError(await get(`${base}/versions/9.9.9`), 404, "VERSION_NOT_FOUND")
  })

  it("answers the latest version of a channel, pre-releases included where the channel offers them", async () => {
    expect((await (await get(`${base}/latest`)).json()).id).toBe("1.2.5")
    expect((await (await get("/projects/trackly/channels/beta/latest")).json()).id).toBe("1.3.0-beta.2")
  })
})

describe("builds", () => {
  const build = "/projects/trackly/channels/stable/versions/1.2.5/builds/windows-x64"

  it("details a build", async () => {
    const body = await (await get(build)).json()
    expect(body).toMatchObject({
      id: "windows-x64",
      version: "1.2.5",
      platform: "windows",
      architecture: "x64",
      file_name: "trackly-1.2.5-win-x64.exe",
      status: "verified",
      created_at: "2026-02-05T14:30:00Z"
    })
  })

  it("answers BUILD_NOT_FOUND listing the version's builds", async () => {
    const error = await expectError(
      await get("/projects/trackly/channels/stable/versions/1.2.5/builds/amiga-m68k"),
      404,
      "BUILD_NOT_FOUND"
    )
    expect(error.details.available_builds).toContain("windows-x64")
  })

  it("redirects a download to the build's URL and counts it", async () => {
    const before = (await (await get(build)).json()).downloads
    const projectBefore = (await (await get("/projects/trackly")).json()).total_downloads
    const response = await get(`${build}/download`)
    expect(response.status).toBe(302)
    expect(response.headers.get("location")).toBe("https://cdn.lunarbit.dev/trackly/1.2.5/trackly-1.2.5-win-x64.exe")
    expect(response.headers.get("x-frame-options")).toBe("DENY")
    expect((await (await get(build)).json()).downloads).toBe(before + 1)
    expect((await (await get("/projects/trackly")).json()).total_downloads).toBe(projectBefore + 1)
    // The same build asked under another spelling of its version counts for the same build.
    await get("/projects/trackly/channels/stable/versions/v1.2.5/builds/windows-x64/download")
    expect((await (await get(build)).json()).downloads).toBe(before + 2)
  })
})

describe("GET /projects/{projectId}/channels/{channelId}/update", () => {
  const check = (query: string, channel = "stable") => get(`/projects/trackly/channels/${channel}/update?${query}`)

  it("offers the latest version with breaking changes judged over the skipped versions", async () => {
    const body = await (await check("current_version=1.1.0&platform=windows&architecture=x64")).json()
    expect(body).toEqual({
      update_available: true,
      current_version: "1.1.0",
      latest_version: "1.2.5",
      breaking_changes: true,
      release_notes: expect.stringContaining("Fixed dashboard loading issue"),
      download_url: "https://cdn.lunarbit.dev/trackly/1.2.5/trackly-1.2.5-win-x64.exe",
      file_size: expect.any(Number),
      checksum: { sha256: expect.any(String), md5: expect.any(String), sha512: expect.any(String) },
      published_at: "2026-02-05T14:30:00Z"
    })
    const minor = await (await check("current_version=1.2.3&platform=windows&architecture=x64")).json()
    expect(minor).toMatchObject({ update_available: true, latest_version: "1.2.5", breaking_changes: false })
  })

  it("says the client is up to date, and never offers a downgrade", async () => {
    expect(await (await check("current_version=1.2.5&platform=linux&architecture=arm64")).json()).toEqual({
      update_available: false,
      current_version: "1.2.5",
      latest_version: "1.2.5",
      message: "You are running the latest version"
    })
    const ahead = await (await check("current_version=9.0.0&platform=windows&architecture=x64")).json()
    expect(ahead).toMatchObject({ update_available: false, current_version: "9.0.0", latest_version: "1.2.5" })
  })

  it("falls back to the universal macOS build", async () => {
    const body = await (await check("current_version=1.2.3&platform=macos&architecture=arm64")).json()
    expect(body.download_url).toBe("https://cdn.lunarbit.dev/trackly/1.2.5/trackly-1.2.5-mac-universal.dmg")
  })

  it("offers pre-releases on the beta channel, only where a build exists for the platform", async () => {
    const beta = await (await check("current_version=1.3.0-beta.1&platform=windows&architecture=x64", "beta")).json()
    expect(beta).toMatchObject({ update_available: true, latest_version: "1.3.0-beta.2" })
    const noBuild = await (
      await check("current_version=1.3.0-beta.1&platform=windows&architecture=arm64", "beta")
    ).json()
    expect(noBuild).toMatchObject({ update_available: false, latest_version: "1.3.0-beta.1" })
  })

  it("answers INVALID_VERSION for a version that is not SemVer", async () => {
    const error = await expectError(
      await check("current_version=1.2&platform=windows&architecture=x64"),
      400,
      "INVALID_VERSION"
    )
    expect(error.details).toEqual({ field: "current_version", value: "1.2" })
  })

  it("names missing and invalid query parameters", async () => {
    const missing = await expectError(await check("platform=windows&architecture=x64"), 400, "INVALID_REQUEST")
    expect(missing.details.issues.map((i: any) => i.field)).toEqual(["query.current_version"])
    const platform = await expectError(
      await check("current_version=1.0.0&platform=amiga&architecture=x64"),
      400,
      "INVALID_REQUEST"
    )
    expect(platform.details.issues[0].field).toBe("query.platform")
    const universal = await expectError(
      await check("current_version=1.0.0&platform=macos&architecture=universal"),
      400,
      "INVALID_REQUEST"
    )
    expect(universal.details.issues[0].field).toBe("query.architecture")
  })

  it("answers PROJECT_NOT_FOUND and CHANNEL_NOT_FOUND", async () => {
    await expectError(
      await get("/projects/nope/channels/stable/update?current_version=1.0.0&platform=windows&architecture=x64"),
      404,
      "PROJECT_NOT_FOUND"
    )
    await expectError(
      await check("current_version=1.0.0&platform=windows&architecture=x64", "nightly"),
      404,
      "CHANNEL_NOT_FOUND"
    )
  })
})

describe("POST /update/check", () => {
  const request = {
    client: { launcher_version: "2.0.0", os: "windows", os_version: "10.0.19045", architecture: "x64" },
    installed: [
      { project_id: "trackly", version: "1.0.0", channel: "stable" },
      { project_id: "csviewer", version: "3.1.0-rc.1", channel: "beta" },
      { project_id: "nonexistent", version: "1.0.0", channel: "stable" },
      { project_id: "csviewer", version: "not-a-version", channel: "stable" }
    ]
  }

  it("answers the launcher and every installed project, one bad entry failing only itself", async () => {
    const response = await post("/update/check", JSON.stringify(request))
    expect(response.status).toBe(200)
    const body = await response.json()
    expect(body.updates_available).toBe(true)
    expect(body.launcher_update).toMatchObject({ available: true, current: "2.0.0", latest: "2.1.0" })
    expect(body.project_updates).toEqual([
      {
        project_id: "trackly",
        update_available: true,
        current_version: "1.0.0",
        latest_version: "1.2.5",
        breaking_changes: true,
        download_url: "https://cdn.lunarbit.dev/trackly/1.2.5/trackly-1.2.5-win-x64.exe",
        file_size: expect.any(Number),
        checksum: expect.any(Object)
      },
      { project_id: "csviewer", update_available: false, current_version: "3.1.0-rc.1", latest_version: "3.1.0-rc.1" },
      {
        project_id: "nonexistent",
        update_available: false,
        current_version: "1.0.0",
        error: { code: "PROJECT_NOT_FOUND", message: "Project 'nonexistent' not found" }
      },
      {
        project_id: "csviewer",
        update_available: false,
        current_version: "not-a-version",
        error: { code: "INVALID_VERSION", message: expect.any(String) }
      }
    ])
  })

  it("is also served under /api/v2", async () => {
    const response = await post("/api/v2/update/check", JSON.stringify({ ...request, installed: [] }))
    expect(await response.json()).toMatchObject({ launcher_update: { available: true }, project_updates: [] })
  })

  it("rejects malformed JSON, schema failures with field paths, other content types and oversized bodies", async () => {
    const malformed = await expectError(await post("/update/check", '{"client":'), 400, "INVALID_REQUEST")
    expect(malformed.details.issues[0].field).toBe("body")
    const invalid = await expectError(
      await post("/update/check", JSON.stringify({ client: { os: "beos" }, installed: "x" })),
      400,
      "INVALID_REQUEST"
    )
    expect(invalid.details.issues.map((i: any) => i.field)).toEqual(
      expect.arrayContaining(["body.client.launcher_version", "body.client.os", "body.installed"])
    )
    await expectError(
      await post("/update/check", "hello", { ...auth, "content-type": "text/plain" }),
      415,
      "UNSUPPORTED_MEDIA_TYPE"
    )
    const huge = JSON.stringify({ ...request, padding: "x".repeat(2_000_000) })
    await expectError(await post("/update/check", huge), 413, "PAYLOAD_TOO_LARGE")
    const many = { ...request, installed: Array.from({ length: 201 }, () => request.installed[0]) }
    expect(
      (await expectError(await post("/update/check", JSON.stringify(many)), 400, "INVALID_REQUEST")).details.issues[0]
        .field
    ).toBe("body.installed")
  })
})

describe("the /api/v2 base path", () => {
  it("serves the same answers as the root", async () => {
    for (const path of ["/projects", "/projects/csviewer", "/projects/trackly/channels/beta/versions"]) {
      expect(await (await get(`/api/v2${path}`)).json()).toEqual(await (await get(path)).json())
    }
    expect((await get("/api/v2/health", {})).status).toBe(200)
    await expectError(await get("/api/v2x/health", {}), 401, "UNAUTHORIZED")
  })
})

describe("OpenAPI", () => {
  it("serves the generated document and the interactive docs", async () => {
    const document = await (await get("/openapi.json", {})).json()
    expect(document.info).toMatchObject({ title: "LunarBit Gateway", version: "2.0.0" })
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        "/health",
        "/projects",
        "/projects/{projectId}",
        "/update/check",
        "/projects/{projectId}/channels/{channelId}/update"
      ])
    )
    // Errors are documented as the envelope, with the statuses each operation can answer.
    const project = document.paths["/projects/{projectId}"].get.responses
    expect(Object.keys(project)).toEqual(expect.arrayContaining(["200", "400", "401", "403", "404", "429", "500"]))
    const envelope = document.components.schemas.GatewayErrorEncoded
    expect(envelope.properties.error.required).toEqual([
      "code",
      "message",
      "details",
      "documentation_url",
      "request_id"
    ])
    expect(Object.keys(document.paths["/health"].get.responses)).not.toContain("401")
    expect(document.paths["/admin/keys"].post.responses["409"].description).toMatch(/^KEY_EXISTS/)
    const docs = await get("/docs", {})
    expect(docs.status).toBe(200)
    expect(docs.headers.get("content-type")).toMatch(/text\/html/)
    expect(docs.headers.get("content-security-policy")).toContain("default-src 'self'")
  })
})

describe("access log", () => {
  it("writes one JSON line per request without credentials", async () => {
    const response = await get("/projects/trackly")
    const id = response.headers.get("x-request-id")
    await new Promise((resolve) => setTimeout(resolve, 20))
    const lines = gateway.logs.filter((line) => line.request_id === id)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ msg: "request", method: "GET", path: "/projects/trackly", status: 200 })
    expect(typeof lines[0]!.duration_ms).toBe("number")
    expect(JSON.stringify(gateway.logs)).not.toContain(adminKey)
  })
})
