import { Duration, Effect, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import * as GitHubReleaseSource from "../../src/releases/github/GitHubReleaseSource.ts"
import type { ReleaseSourceShape } from "../../src/releases/ports/ReleaseSource.ts"
import { digests, type FakeGitHub } from "./FakeGitHub.ts"
import { catalogOf, closeAfterEach, eventually, scoped } from "./support.ts"

const { track, fake } = closeAfterEach()

const trackly = { id: "trackly", name: "Trackly", repository: "lunarbit/trackly" } as const

const source = async (github: FakeGitHub, options: Partial<GitHubReleaseSource.Options> = {}) => {
  const running = await scoped(
    GitHubReleaseSource.make({
      projects: [trackly],
      apiUrl: github.url,
      perPage: 2,
      syncInterval: Duration.hours(1),
      ...options
    })
  )
  track(running)
  return running.value
}

const sync = (s: ReleaseSourceShape) => Effect.runPromise(s.sync!)
const health = (s: ReleaseSourceShape) => Effect.runPromise(s.health)

const exe = "MZ windows build"
const publish = (
  github: FakeGitHub,
  tag: string,
  extra: { prerelease?: boolean; draft?: boolean; body?: string } = {}
) =>
  github.release("lunarbit/trackly", {
    tag,
    publishedAt: "2026-01-05T00:00:00Z",
    ...extra,
    assets: [{ name: `trackly-${tag}-win-x64.exe`, content: exe }]
  })

describe("GitHubReleaseSource", () => {
  it("follows every page of the release list through the Link header", async () => {
    const github = await fake()
    for (const tag of ["v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0", "v1.4.0"]) publish(github, tag)
    const s = await source(github)
    const [outcome] = await sync(s)
    expect(outcome).toMatchObject({
      source: "github",
      target: "lunarbit/trackly",
      status: "updated",
      projects: ["trackly"]
    })
    const stable = (await catalogOf(s)).projectsById.get("trackly")!.channels.get("stable")!
    expect(stable.versions.map((v) => v.version.id)).toEqual(["1.4.0", "1.3.0", "1.2.0", "1.1.0", "1.0.0"])
    const lists = github.listRequests().map((r) => r.path)
    expect(lists[0]).toBe("/repos/lunarbit/trackly/releases?per_page=2")
    expect(lists.slice(1)).toEqual([
      expect.stringMatching(/^\/repositories\/\d+\/releases\?per_page=2&page=2$/),
      expect.stringMatching(/^\/repositories\/\d+\/releases\?per_page=2&page=3$/)
    ])
  })

  it("revalidates with If-None-Match, so an unchanged repository costs no quota", async () => {
    const github = await fake()
    for (const tag of ["v1.0.0", "v1.1.0", "v1.2.0"]) publish(github, tag)
    const s = await source(github)
    await sync(s)
    const before = await catalogOf(s)
    const spent = github.quota.remaining
    const [outcome] = await sync(s)
    expect(outcome!.status).toBe("unchanged")
    expect(github.quota.remaining).toBe(spent)
    const second = github.listRequests().slice(2)
    expect(second.map((r) => r.status)).toEqual([304, 304])
    expect(second.every((r) => r.ifNoneMatch?.startsWith('W/"'))).toBe(true)
    // The very same catalog is served: nothing was rebuilt.
    expect(await catalogOf(s)).toBe(before)

    publish(github, "v1.3.0")
    const [changed] = await sync(s)
    expect(changed!.status).toBe("updated")
    expect((await catalogOf(s)).projectsById.get("trackly")!.channels.get("stable")!.versions[0]!.version.id).toBe(
      "1.3.0"
    )
  })

  it("serves published releases on stable, pre-releases on beta, and never drafts", async () => {
    const github = await fake()
    publish(github, "v1.0.0")
    publish(github, "v1.1.0-beta.1", { prerelease: true })
    publish(github, "v1.1.0", { draft: true })
    publish(github, "nightly-build")
    const s = await source(github)
    await sync(s)
    const project = (await catalogOf(s)).projectsById.get("trackly")!
    expect(project.channels.get("stable")!.versions.map((v) => v.version.id)).toEqual(["1.0.0"])
    expect(project.channels.get("beta")!.versions.map((v) => v.version.id)).toEqual(["1.1.0-beta.1"])
    const build = project.channels.get("stable")!.versions[0]!.builds.get("windows-x64")!
    expect(build).toMatchObject({ platform: "windows", architecture: "x64", file_size: exe.length })
    expect(build.download_url).toBe(
      `${github.url}/lunarbit/trackly/releases/download/v1.0.0/trackly-v1.0.0-win-x64.exe`
    )
  })

  it("takes checksums from .sha256 sidecars, SHA256SUMS files and GitHub's digests", async () => {
    const github = await fake()
    const files = { win: "windows bytes", mac: "mac bytes", linux: "linux bytes" }
    github.release("lunarbit/trackly", {
      tag: "v2.0.0",
      assets: [
        { name: "trackly-2.0.0-win-x64.exe", content: files.win },
        {
          name: "trackly-2.0.0-win-x64.exe.sha256",
          content: `${digests.sha256(files.win)}  trackly-2.0.0-win-x64.exe\n`
        },
        { name: "trackly-2.0.0-arm64.dmg", content: files.mac },
        {
          name: "trackly-2.0.0-x86_64.AppImage",
          content: files.linux,
          digest: `sha256:${digests.sha256(files.linux)}`
        },
        {
          name: "SHA256SUMS",
          content: `${digests.sha256(files.mac)} *trackly-2.0.0-arm64.dmg\n${"0".repeat(64)}  unrelated.txt\n`
        },
        { name: "MD5SUMS", content: `MD5 (trackly-2.0.0-arm64.dmg) = ${digests.md5(files.mac)}\n` }
      ]
    })
    const s = await source(github)
    await sync(s)
    const builds = (await catalogOf(s)).projectsById.get("trackly")!.channels.get("stable")!.versions[0]!.builds
    expect([...builds.keys()].sort()).toEqual(["linux-x64", "macos-arm64", "windows-x64"])
    expect(builds.get("windows-x64")!.checksum).toEqual({ sha256: digests.sha256(files.win) })
    expect(builds.get("macos-arm64")!.checksum).toEqual({
      sha256: digests.sha256(files.mac),
      md5: digests.md5(files.mac)
    })
    expect(builds.get("linux-x64")!.checksum).toEqual({ sha256: digests.sha256(files.linux) })
  })

  it("keeps serving the last good catalog when GitHub rate-limits, and says so in health", async () => {
    const github = await fake()
    publish(github, "v1.0.0")
    const s = await source(github)
    await sync(s)
    const good = await catalogOf(s)
    github.refuse({ status: 403 })
    publish(github, "v1.1.0")
    const [outcome] = await sync(s)
    expect(outcome).toMatchObject({ status: "failed", projects: ["trackly"], error: { code: "UPSTREAM_RATE_LIMITED" } })
    expect(await catalogOf(s)).toBe(good)
    const [state] = await health(s)
    expect(state).toMatchObject({ name: "github:lunarbit/trackly", status: "degraded" })
    expect(state!.lastError).toMatch(/rate limit/)
    expect(state!.lastSuccessAt).toBeDefined()
    // Until x-ratelimit-reset passes, no request is sent at all.
    const sent = github.requests.length
    const [again] = await sync(s)
    expect(again!.error!.code).toBe("UPSTREAM_RATE_LIMITED")
    expect(github.requests.length).toBe(sent)
  })

  it("waits out a 429's retry-after, then recovers", async () => {
    const github = await fake()
    publish(github, "v1.0.0")
    const s = await source(github)
    github.refuse({ status: 429, retryAfter: 1 })
    const [refused] = await sync(s)
    expect(refused!.error!.code).toBe("UPSTREAM_RATE_LIMITED")
    expect((await health(s))[0]!.status).toBe("degraded")
    github.refuse(undefined)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const [recovered] = await sync(s)
    expect(recovered!.status).toBe("updated")
    expect((await health(s))[0]).toMatchObject({ status: "ok" })
    expect((await health(s))[0]!.lastError).toBeUndefined()
  })

  it("reports a repository that does not exist without affecting the others", async () => {
    const github = await fake()
    publish(github, "v1.0.0")
    const s = await source(github, {
      projects: [trackly, { id: "ghost", name: "Ghost", repository: "lunarbit/ghost" }]
    })
    const outcomes = await sync(s)
    expect(outcomes.map((o) => [o.target, o.status, o.error?.code])).toEqual([
      ["lunarbit/trackly", "updated", undefined],
      ["lunarbit/ghost", "failed", "UPSTREAM_NOT_FOUND"]
    ])
    expect((await catalogOf(s)).projects.map((p) => p.project.id)).toEqual(["trackly"])
    expect((await health(s)).map((h) => [h.name, h.status])).toEqual([
      ["github:lunarbit/trackly", "ok"],
      ["github:lunarbit/ghost", "degraded"]
    ])
  })

  it("reads a private repository with GITHUB_TOKEN, downloading its files through the API", async () => {
    const github = await fake({ token: "ghp_secret0123456789abcdefghij" })
    const content = "private build"
    github.repository("lunarbit/trackly", { private: true }).release("lunarbit/trackly", {
      tag: "v1.0.0",
      assets: [
        { name: "trackly-1.0.0-linux-x64.tar.gz", content },
        { name: "trackly-1.0.0-linux-x64.tar.gz.sha256", content: digests.sha256(content) }
      ]
    })
    const anonymous = await source(github)
    expect((await sync(anonymous))[0]!.error!.code).toBe("UPSTREAM_NOT_FOUND")

    const s = await source(github, { token: Redacted.make("ghp_secret0123456789abcdefghij") })
    expect((await sync(s))[0]!.status).toBe("updated")
    const build = (await catalogOf(s)).projectsById
      .get("trackly")!
      .channels.get("stable")!
      .versions[0]!.builds.get("linux-x64")!
    expect(build.checksum).toEqual({ sha256: digests.sha256(content) })
    const sidecar = github.requests.find((r) => /\/releases\/assets\/\d+$/.test(r.path))
    expect(sidecar).toMatchObject({ status: 302, authorization: "Bearer ghp_secret0123456789abcdefghij" })
    expect(s.artifactRequest!(build)).toMatchObject({
      url: expect.stringMatching(/\/repos\/lunarbit\/trackly\/releases\/assets\/\d+$/),
      headers: { accept: "application/octet-stream", authorization: "Bearer ghp_secret0123456789abcdefghij" }
    })
  })

  it("fetches one repository at most once at a time, however many syncs are asked for", async () => {
    const github = await fake()
    publish(github, "v1.0.0")
    const s = await source(github)
    const outcomes = await Promise.all([sync(s), sync(s), sync(s), sync(s), sync(s)])
    expect(github.listing.max).toBe(1)
    expect(github.listRequests()).toHaveLength(1)
    expect(new Set(outcomes.map((o) => o[0]!.status))).toEqual(new Set(["updated"]))
  })

  it("synchronises in the background, at start and then every interval", async () => {
    const github = await fake()
    publish(github, "v1.0.0")
    const s = await source(github, { syncInterval: Duration.millis(100) })
    await eventually(async () => ((await catalogOf(s)).projects.length === 1 ? true : undefined))
    publish(github, "v1.1.0")
    await eventually(async () =>
      (await catalogOf(s)).projectsById.get("trackly")!.channels.get("stable")!.versions.length === 2 ? true : undefined
    )
    await eventually(() => (github.listRequests().filter((r) => r.status === 304).length >= 1 ? true : undefined))
  })

  it("rejects a synchronisation that would make the catalog inconsistent, keeping the rest", async () => {
    const github = await fake()
    publish(github, "v1.0.0")
    github.release("lunarbit/other", { tag: "v3.0.0" })
    const s = await source(github, {
      projects: [trackly, { id: "trackly", name: "Twin", repository: "lunarbit/other" }],
      concurrency: 1
    })
    const outcomes = await sync(s)
    expect(outcomes.map((o) => o.status)).toEqual(["updated", "failed"])
    expect(outcomes[1]!.error!.message).toMatch(/duplicate id 'trackly'/)
    expect((await catalogOf(s)).projects.map((p) => p.project.name)).toEqual(["Trackly"])
    // GitHub has nothing new (304), but what it holds is still refused rather than taken as good.
    expect((await sync(s)).map((o) => o.status)).toEqual(["unchanged", "failed"])
    expect((await health(s)).map((h) => h.status)).toEqual(["ok", "degraded"])
  })
})
