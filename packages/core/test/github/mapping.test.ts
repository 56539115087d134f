import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import * as CatalogLoader from "../../src/releases/domain/CatalogLoader.ts"
import * as GitHubAssets from "../../src/releases/github/GitHubAssets.ts"
import * as GitHubCatalog from "../../src/releases/github/GitHubCatalog.ts"
import * as GitHubChecksums from "../../src/releases/github/GitHubChecksums.ts"
import { type Release, rateLimitedUntil } from "../../src/releases/github/GitHubWire.ts"
import * as ConditionalResponses from "../../src/releases/http/ConditionalResponses.ts"

describe("GitHubAssets.classify", () => {
  it.each([
    ["trackly-1.2.5-win-x64.exe", "windows", "x64", "exe"],
    ["Trackly-Setup-1.2.5.exe", "windows", "x64", "exe"],
    ["trackly-1.2.5-windows-arm64.msi", "windows", "arm64", "msi"],
    ["trackly-1.2.5-win64.zip", "windows", "x64", "zip"],
    ["Trackly-1.2.5-arm64.dmg", "macos", "arm64", "dmg"],
    ["Trackly-1.2.5.dmg", "macos", "universal", "dmg"],
    ["trackly-1.2.5-mac-universal.zip", "macos", "universal", "zip"],
    ["trackly-darwin-x64.tar.gz", "macos", "x64", "tar-gz"],
    ["Trackly-1.2.5-x86_64.AppImage", "linux", "x64", "appimage"],
    ["trackly_1.2.5_amd64.deb", "linux", "x64", "deb"],
    ["trackly-1.2.5.aarch64.rpm", "linux", "arm64", "rpm"],
    ["trackly-1.2.5-linux-x64.tar.gz", "linux", "x64", "tar-gz"]
  ])("%s is a %s %s build (%s)", (name, platform, architecture, kind) => {
    expect(GitHubAssets.classify(name)).toEqual({ platform, architecture, kind })
  })

  it.each([
    "trackly-1.2.5-win-x64.exe.sha256",
    "SHA256SUMS",
    "checksums.txt",
    "trackly-1.2.5.tar.gz",
    "source.zip",
    "trackly-1.2.5-win32.exe",
    "trackly-1.2.5-linux-armhf.deb",
    "trackly-1.2.5.AppImage.zsync",
    "latest.yml",
    "trackly-1.2.5-win-x64.exe.sig"
  ])("%s is not a build", (name) => {
    expect(GitHubAssets.classify(name)).toBeUndefined()
  })

  it("gives the preferred format the plain id and keeps it first", () => {
    const asset = (name: string) => ({
      name,
      size: 1,
      browser_download_url: `https://x.test/${name}`,
      created_at: "2026-01-01T00:00:00Z"
    })
    const builds = GitHubAssets.toBuilds(
      [
        asset("app-linux-x64.deb"),
        asset("app-win-x64.msi"),
        asset("app-x86_64.AppImage"),
        asset("app-win-x64.exe"),
        asset("app-linux-x64.rpm")
      ],
      new Map()
    )
    expect(builds.map((b) => b.id)).toEqual([
      "windows-x64",
      "windows-x64-msi",
      "linux-x64",
      "linux-x64-deb",
      "linux-x64-rpm"
    ])
    expect(builds[0]!.file_name).toBe("app-win-x64.exe")
  })
})

describe("GitHubChecksums", () => {
  const a = "a".repeat(64)
  const b = "b".repeat(64)
  const m = "c".repeat(32)

  it("reads GNU and BSD checksum lists, telling the algorithm by length", () => {
    const text = `${a}  app.exe\n${b} *app.dmg\n${m}  ./app.deb\nSHA256 (app.zip) = ${b.toUpperCase()}\n# comment\n`
    expect(GitHubChecksums.parseList(text)).toEqual([
      { file: "app.exe", algorithm: "sha256", hex: a },
      { file: "app.dmg", algorithm: "sha256", hex: b },
      { file: "app.deb", algorithm: "md5", hex: m },
      { file: "app.zip", algorithm: "sha256", hex: b }
    ])
  })

  it("prefers a sidecar to a list, and a list to GitHub's digest", () => {
    const found = GitHubChecksums.resolve(
      [
        { name: "app.exe", digest: `sha256:${"d".repeat(64)}` },
        { name: "app.dmg", digest: `sha256:${"d".repeat(64)}` },
        { name: "app.deb", digest: null }
      ],
      new Map([
        ["SHA256SUMS", `${a}  app.exe\n${b}  app.dmg\n`],
        ["app.exe.sha256", `${b}\n`],
        ["app.deb.md5", m]
      ])
    )
    expect(found.get("app.exe")).toEqual({ sha256: b })
    expect(found.get("app.dmg")).toEqual({ sha256: b })
    expect(found.get("app.deb")).toEqual({ md5: m })
  })

  it("reads Squirrel.Windows' RELEASES, SHA-512 and SHA-1 sidecars, giving SHA-512 in base64 as electron-updater wants", () => {
    const sha512 = "0f".repeat(64)
    const sha1 = "ab".repeat(20)
    const found = GitHubChecksums.resolve(
      [{ name: "App-1.0.0-full.nupkg" }, { name: "app.exe" }],
      new Map([
        ["RELEASES", `${sha1.toUpperCase()} App-1.0.0-full.nupkg 1234\n${"cd".repeat(20)} App-1.0.0-delta.nupkg 99\n`],
        ["app.exe.sha512", `${sha512}  app.exe\n`],
        ["app.exe.sha1", sha1]
      ])
    )
    expect(found.get("App-1.0.0-full.nupkg")).toEqual({ sha1 })
    expect(found.get("app.exe")).toEqual({ sha512: btoa(String.fromCharCode(...Array(64).fill(0x0f))), sha1 })
  })

  it("takes a `.sig` asset as the Tauri signature of the file it names, never as a build", () => {
    expect(GitHubChecksums.classify("app.app.tar.gz.sig")).toEqual({ kind: "signature", target: "app.app.tar.gz" })
    const signatures = GitHubChecksums.signatures(
      new Map([
        ["app.app.tar.gz.sig", "dW50cnVzdGVkIGNvbW1lbnQ=\n"],
        ["app.exe.sha256", "a".repeat(64)]
      ])
    )
    expect([...signatures]).toEqual([["app.app.tar.gz", "dW50cnVzdGVkIGNvbW1lbnQ="]])
    const builds = GitHubAssets.toBuilds(
      [
        {
          name: "app_x64.app.tar.gz",
          size: 1,
          browser_download_url: "https://x.test/app_x64.app.tar.gz",
          created_at: "2026-01-01T00:00:00Z"
        },
        {
          name: "App-1.0.0-full.nupkg",
          size: 2,
          browser_download_url: "https://x.test/n",
          created_at: "2026-01-01T00:00:00Z"
        },
        {
          name: "App-1.0.0-delta.nupkg",
          size: 3,
          browser_download_url: "https://x.test/d",
          created_at: "2026-01-01T00:00:00Z"
        }
      ],
      new Map(),
      new Map([["app_x64.app.tar.gz", "sig"]])
    )
    expect(builds.map((b) => [b.id, b.signature])).toEqual([
      ["macos-x64", "sig"],
      ["windows-x64", undefined]
    ])
  })

  it("ignores a sidecar that does not hold a digest of its algorithm", () => {
    expect(GitHubChecksums.parseSidecar("not a checksum", "sha256")).toBeUndefined()
    expect(GitHubChecksums.parseSidecar(m, "sha256")).toBeUndefined()
  })
})

const release = (tag: string, options: Partial<Release> = {}): Release => ({
  id: tag.length,
  tag_name: tag,
  name: null,
  body: null,
  draft: false,
  prerelease: false,
  created_at: "2026-01-01T00:00:00Z",
  published_at: "2026-01-02T00:00:00Z",
  assets: [],
  ...options
})

const config = { id: "app", name: "App", repository: "o/app" } as const
const map = (releases: ReadonlyArray<Release>, extra: Partial<Parameters<typeof GitHubCatalog.toProject>[0]> = {}) =>
  GitHubCatalog.toProject({ ...config, ...extra }, releases, () => new Map(), "2026-01-01T00:00:00Z")
const versionsOf = (mapped: GitHubCatalog.Mapped, channel: string) =>
  mapped.project.channels.find((c) => c.id === channel)!.versions.map((v) => v.id)

describe("GitHubCatalog.toProject", () => {
  it("maps tags to SemVer and leaves out drafts and tags that are not versions", () => {
    const mapped = map([
      release("v1.0.0"),
      release("1.1.0"),
      release("v2.0.0", { draft: true, published_at: null }),
      release("latest")
    ])
    expect(versionsOf(mapped, "stable")).toEqual(["1.1.0", "1.0.0"])
    expect(mapped.skipped).toEqual(["latest: not a SemVer version"])
    expect(Effect.runSync(Effect.result(CatalogLoader.load({ projects: [mapped.project] })))._tag).toBe("Success")
  })

  it("sends pre-releases to beta and matching tags to the configured channels first", () => {
    const mapped = map(
      [
        release("v1.0.0"),
        release("v1.1.0-rc.1", { prerelease: true }),
        release("v1.1.0-nightly.20260101", { prerelease: true })
      ],
      { channels: [{ id: "nightly", tags: ["v*-nightly.*"], name: "Nightly", allow_prerelease: true }] }
    )
    expect(mapped.project.channels.map((c) => c.id)).toEqual(["stable", "beta", "nightly"])
    expect(versionsOf(mapped, "beta")).toEqual(["1.1.0-rc.1"])
    expect(versionsOf(mapped, "nightly")).toEqual(["1.1.0-nightly.20260101"])
    expect(mapped.project.channels[2]).toMatchObject({ name: "Nightly", allow_prerelease: true })
  })

  it("reads only the project's tags when a prefix is configured", () => {
    const mapped = map([release("app-v1.0.0"), release("cli-v3.0.0")], { tag_prefix: "app-v" })
    expect(versionsOf(mapped, "stable")).toEqual(["1.0.0"])
  })

  it("marks breaking changes from the notes or a major bump", () => {
    const mapped = map([
      release("v1.0.0"),
      release("v1.1.0", { body: "## Changes\n- Breaking: removed the v1 API" }),
      release("v1.2.0", { body: "No breaking changes this time." }),
      release("v1.3.0", { body: "feat!: new storage\n\nBREAKING CHANGE: data is migrated" }),
      release("v2.0.0", { body: "Fixes" })
    ])
    const breaking = Object.fromEntries(mapped.project.channels[0]!.versions.map((v) => [v.id, v.breaking_changes]))
    expect(breaking).toEqual({ "2.0.0": true, "1.3.0": true, "1.2.0": false, "1.1.0": true, "1.0.0": false })
  })

  it("keeps release notes and the release title", () => {
    const [version] = map([release("v1.0.0", { name: "First light", body: "Notes" })]).project.channels[0]!.versions
    expect(version).toMatchObject({ id: "1.0.0", name: "v1.0.0", description: "First light", release_notes: "Notes" })
  })

  it("serves one version when two tags have the same precedence", () => {
    const mapped = map([release("v1.0.0"), release("1.0.0", { published_at: "2026-02-01T00:00:00Z" })])
    expect(versionsOf(mapped, "stable")).toEqual(["1.0.0"])
    expect(mapped.project.channels[0]!.versions[0]!.name).toBe("1.0.0")
  })
})

describe("rate limits", () => {
  const now = 1_000_000
  it("follows retry-after, then x-ratelimit-reset, and tells a plain 403 apart", () => {
    expect(rateLimitedUntil({ status: 429, message: "", headers: { "retry-after": "30" } }, now)).toBe(now + 30_000)
    expect(
      rateLimitedUntil(
        { status: 403, message: "", headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "2000" } },
        now
      )
    ).toBe(2_000_000)
    expect(
      rateLimitedUntil({ status: 403, message: "You have exceeded a secondary rate limit", headers: {} }, now)
    ).toBe(now + 60_000)
    expect(
      rateLimitedUntil({ status: 403, message: "Resource not accessible by integration", headers: {} }, now)
    ).toBeUndefined()
    expect(rateLimitedUntil({ status: 500, message: "", headers: {} }, now)).toBeUndefined()
  })
})

describe("ConditionalResponses", () => {
  it("matches If-None-Match lists, weak tags and *", () => {
    const etag = '"abc"'
    expect(ConditionalResponses.matches('"abc"', etag)).toBe(true)
    expect(ConditionalResponses.matches('W/"abc"', etag)).toBe(true)
    expect(ConditionalResponses.matches('"x", W/"abc"', etag)).toBe(true)
    expect(ConditionalResponses.matches("*", etag)).toBe(true)
    expect(ConditionalResponses.matches('"abcd"', etag)).toBe(false)
    expect(ConditionalResponses.matches(undefined, etag)).toBe(false)
  })

  it("caches catalog reads and revalidates update checks", () => {
    expect(ConditionalResponses.policyFor("GET", "/projects")).toBe("catalog")
    expect(ConditionalResponses.policyFor("HEAD", "/projects/a/channels/b/versions")).toBe("catalog")
    expect(ConditionalResponses.policyFor("GET", "/projects/a/channels/b/update")).toBe("update")
    expect(ConditionalResponses.policyFor("POST", "/update/check")).toBeUndefined()
    expect(ConditionalResponses.policyFor("GET", "/projectsx")).toBeUndefined()
    expect(ConditionalResponses.policyFor("GET", "/health")).toBeUndefined()
  })
})
