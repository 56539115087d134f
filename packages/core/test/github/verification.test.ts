import { Duration, Effect, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import * as NodeArtifactDigest from "../../../adapter-node/src/NodeArtifactDigest.ts"
import * as CatalogLoader from "../../src/releases/domain/CatalogLoader.ts"
import * as GitHubReleaseSource from "../../src/releases/github/GitHubReleaseSource.ts"
import { ArtifactDigest } from "../../src/releases/ports/ArtifactDigest.ts"
import * as ReleaseSource from "../../src/releases/ports/ReleaseSource.ts"
import * as BuildVerification from "../../src/releases/services/BuildVerification.ts"
import { digests, type FakeGitHub } from "./FakeGitHub.ts"
import { catalogOf, closeAfterEach, eventually, scoped, statusOf } from "./support.ts"

const { track, fake } = closeAfterEach()

/** GitHub as a source, with verification around it; the first synchronisation is awaited. */
const verified = async (
  github: FakeGitHub,
  options: BuildVerification.Options = {},
  token?: string
): Promise<ReleaseSource.ReleaseSourceShape> => {
  const running = await scoped(
    Effect.gen(function* () {
      const source = yield* GitHubReleaseSource.make({
        projects: [{ id: "app", name: "App", repository: "o/app" }],
        apiUrl: github.url,
        syncInterval: Duration.hours(1),
        ...(token === undefined ? {} : { token: Redacted.make(token) })
      })
      yield* source.sync!
      return yield* BuildVerification.make(source, { pollInterval: Duration.millis(20), ...options })
    }).pipe(Effect.provideService(ArtifactDigest, NodeArtifactDigest.make()))
  )
  track(running)
  return running.value
}

/** Waits until every build of the catalog has a status, and returns them by build id. */
const settled = (source: ReleaseSource.ReleaseSourceShape, project = "app") =>
  eventually(async () => {
    const statuses: Record<string, string | undefined> = {}
    for (const channel of (await catalogOf(source)).projectsById.get(project)!.channels.values()) {
      for (const version of channel.versions) {
        for (const build of version.builds.values()) statuses[`${version.version.id}/${build.id}`] = build.status
      }
    }
    return Object.values(statuses).every((s) => s !== undefined) ? statuses : undefined
  })

/** A file-like source of one project with one version holding `builds`, verified in the background. */
const verifiedFileSource = async (projectId: string, builds: ReadonlyArray<Record<string, unknown>>) => {
  const index = await Effect.runPromise(
    CatalogLoader.load({
      projects: [
        {
          id: projectId,
          name: projectId,
          created_at: "2026-01-01T00:00:00Z",
          updated_at: "2026-01-01T00:00:00Z",
          channels: [{ id: "stable", versions: [{ id: "1.0.0", published_at: "2026-01-01T00:00:00Z", builds }] }]
        }
      ]
    })
  )
  const running = await scoped(
    BuildVerification.make(ReleaseSource.make({ name: "file", catalog: Effect.succeed(index) }), {
      pollInterval: Duration.millis(20)
    }).pipe(Effect.provideService(ArtifactDigest, NodeArtifactDigest.make()))
  )
  track(running)
  return running.value
}

const good = "good artifact bytes"
const tampered = "tampered artifact bytes"

describe("BuildVerification", () => {
  it("downloads each build and reports verified, checksum_mismatch or unverified", async () => {
    const github = await fake()
    github.release("o/app", {
      tag: "v1.0.0",
      assets: [
        { name: "app-win-x64.exe", content: good },
        { name: "app-win-x64.exe.sha256", content: digests.sha256(good) },
        { name: "app-linux-x64.tar.gz", content: tampered },
        { name: "app-linux-x64.tar.gz.sha256", content: digests.sha256(good) },
        { name: "app-arm64.dmg", content: good },
        { name: "app-x86_64.AppImage", content: good },
        {
          name: "SHA256SUMS",
          content: `${digests.sha256(good)}  app-x86_64.AppImage\n`
        },
        { name: "MD5SUMS", content: `${digests.md5(tampered)}  app-x86_64.AppImage\n` }
      ]
    })
    const source = await verified(github)
    expect(await settled(source)).toEqual({
      "1.0.0/windows-x64": "verified",
      "1.0.0/linux-x64": "checksum_mismatch",
      "1.0.0/linux-x64-tar-gz": "checksum_mismatch",
      "1.0.0/macos-arm64": "unverified"
    })
  })

  it("reports builds it cannot download as unreachable, for any source", async () => {
    const github = await fake()
    const source = await verifiedFileSource("file-app", [
      {
        id: "windows-x64",
        platform: "windows",
        architecture: "x64",
        file_name: "gone.exe",
        file_size: 1,
        download_url: `${github.url}/o/app/releases/download/v9/gone.exe`,
        checksum: { sha256: digests.sha256(good) }
      }
    ])
    expect(await settled(source, "file-app")).toEqual({ "1.0.0/windows-x64": "unreachable" })
  })

  it("downloads at most `concurrency` artifacts at a time", async () => {
    const github = await fake()
    const big = "x".repeat(4 * 64 * 1024)
    github.release("o/app", {
      tag: "v1.0.0",
      assets: ["win-x64.exe", "win-arm64.exe", "linux-x64.deb", "linux-arm64.deb", "x64.dmg", "arm64.dmg"].flatMap(
        (suffix) => [
          { name: `app-${suffix}`, content: big, chunkDelayMs: 15 },
          { name: `app-${suffix}.sha256`, content: digests.sha256(big) }
        ]
      )
    })
    const source = await verified(github, { concurrency: 2 })
    const statuses = await settled(source)
    expect(Object.values(statuses)).toEqual(Array(6).fill("verified"))
    expect(github.downloads.max).toBe(2)
  })

  it("verifies a build again when its asset is replaced, and only that build", async () => {
    const github = await fake()
    github.release("o/app", {
      tag: "v1.0.0",
      assets: [
        { name: "app-win-x64.exe", content: good },
        { name: "app-win-x64.exe.sha256", content: digests.sha256(good) },
        { name: "app-linux-x64.deb", content: good },
        { name: "app-linux-x64.deb.sha256", content: digests.sha256(good) }
      ]
    })
    const source = await verified(github)
    expect(await settled(source)).toEqual({ "1.0.0/windows-x64": "verified", "1.0.0/linux-x64": "verified" })
    const downloaded = github.downloads.total
    github.replaceAsset("o/app", "v1.0.0", { name: "app-win-x64.exe", content: tampered })
    const [outcome] = await Effect.runPromise(source.sync!)
    expect(outcome!.status).toBe("updated")
    const statuses = await eventually(async () => {
      const found = statusOf(await catalogOf(source), "app", "stable", "1.0.0", "windows-x64")
      return found === "checksum_mismatch" ? found : undefined
    })
    expect(statuses).toBe("checksum_mismatch")
    expect(statusOf(await catalogOf(source), "app", "stable", "1.0.0", "linux-x64")).toBe("verified")
    // The replaced file and its unchanged sidecar were read again; the other build was not downloaded.
    expect(github.downloads.total - downloaded).toBe(1)
  })

  it("downloads a private repository's artifacts through the API with the token", async () => {
    const token = "ghp_secret0123456789abcdefghij"
    const github = await fake({ token })
    github.repository("o/app", { private: true }).release("o/app", {
      tag: "v1.0.0",
      assets: [
        { name: "app-win-x64.exe", content: good },
        { name: "app-win-x64.exe.sha256", content: digests.sha256(good) }
      ]
    })
    const source = await verified(github, {}, token)
    expect(await settled(source)).toEqual({ "1.0.0/windows-x64": "verified" })
  })
})

describe("BuildVerification over a catalog that declares statuses", () => {
  it("keeps a declared status and checks only the builds that declare none", async () => {
    const github = await fake()
    const artifact = `${github.url}/artifacts/tool.zip`
    const wrongSha = "0".repeat(64)
    const build = (id: string, status?: "verified") => ({
      id,
      platform: "windows" as const,
      architecture: id === "windows-x64" ? ("x64" as const) : ("arm64" as const),
      file_name: "tool.zip",
      file_size: 1,
      download_url: artifact,
      checksum: { sha256: wrongSha },
      ...(status === undefined ? {} : { status })
    })
    const source = await verifiedFileSource("tool", [build("windows-x64", "verified"), build("windows-arm64")])
    const statuses = await eventually(async () => {
      const version = (await catalogOf(source)).projectsById.get("tool")!.channels.get("stable")!.versions[0]!
      const arm = version.builds.get("windows-arm64")!.status
      return arm === undefined ? undefined : { x64: version.builds.get("windows-x64")!.status, arm }
    })
    // The undeclared build was downloaded (the fake answers 404 for unknown artifacts, or bytes that
    // cannot match the zero checksum); the declared one was left alone.
    expect(statuses.x64).toBe("verified")
    expect(["unreachable", "checksum_mismatch"]).toContain(statuses.arm)
  })
})
