import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { BuildNotFound, ChannelNotFound, ProjectNotFound, VersionNotFound } from "../src/errors/Errors.ts"
import { keyOf } from "../src/releases/ports/DownloadStore.ts"
import { findVersion, Releases } from "../src/releases/services/Releases.ts"
import { channel, indexChannel, version } from "./fixtures.ts"
import { admin, exampleProjects, releasesLayer, restrictedTo } from "./layers.ts"

const tracklyOnly = restrictedTo("trackly")

layer(releasesLayer())("Releases over the example catalog", (it) => {
  describe("projects", () => {
    it.effect("finds a project by id", () =>
      Effect.gen(function* () {
        const releases = yield* Releases
        const found = yield* releases.project(admin, "trackly")
        assert.strictEqual(found.project.name, "Trackly")
        assert.isTrue(found.channels.has("stable"))
      })
    )

    it.effect("shows every project to an unrestricted key", () =>
      Effect.gen(function* () {
        const releases = yield* Releases
        const visible = yield* releases.visibleProjects(admin)
        assert.deepStrictEqual(
          visible.map((p) => p.project.id),
          exampleProjects
        )
      })
    )

    it.effect("fails with PROJECT_NOT_FOUND listing the available projects", () =>
      Effect.gen(function* () {
        const releases = yield* Releases
        const error = yield* Effect.flip(releases.project(admin, "nonexistent"))
        assert.instanceOf(error, ProjectNotFound)
        assert.strictEqual(error.code, "PROJECT_NOT_FOUND")
        assert.strictEqual(error.status, 404)
        assert.strictEqual(error.message, "Project 'nonexistent' not found")
        assert.deepStrictEqual(error.details, { project: "nonexistent", available_projects: exampleProjects })
      })
    )
  })

  describe("a key restricted to some projects", () => {
    it.effect("sees only its own projects", () =>
      Effect.gen(function* () {
        const releases = yield* Releases
        const visible = yield* releases.visibleProjects(tracklyOnly)
        assert.deepStrictEqual(
          visible.map((p) => p.project.id),
          ["trackly"]
        )
        const own = yield* releases.project(tracklyOnly, "trackly")
        assert.strictEqual(own.project.id, "trackly")
      })
    )

    it.effect("gets PROJECT_NOT_FOUND for another project, listing only its own", () =>
      Effect.gen(function* () {
        const releases = yield* Releases
        const error = yield* Effect.flip(releases.project(tracklyOnly, "csviewer"))
        assert.instanceOf(error, ProjectNotFound)
        assert.deepStrictEqual(error.details, { project: "csviewer", available_projects: ["trackly"] })
      })
    )

    it.effect("cannot tell a hidden project from one that does not exist", () =>
      Effect.gen(function* () {
        const releases = yield* Releases
        const hidden = yield* Effect.flip(releases.project(tracklyOnly, "csviewer"))
        const missing = yield* Effect.flip(releases.project(tracklyOnly, "nonexistent"))
        assert.strictEqual(hidden.message.replace("csviewer", "X"), missing.message.replace("nonexistent", "X"))
        assert.deepStrictEqual(hidden.details?.available_projects, missing.details?.available_projects)
      })
    )

    it.effect("cannot reach another project's channels, versions or builds", () =>
      Effect.gen(function* () {
        const releases = yield* Releases
        const ref = { project: "csviewer", channel: "stable", version: "3.0.0", build: "windows-x64" }
        const errors = [
          yield* Effect.flip(releases.channel(tracklyOnly, ref.project, ref.channel)),
          yield* Effect.flip(releases.version(tracklyOnly, ref.project, ref.channel, ref.version)),
          yield* Effect.flip(releases.build(tracklyOnly, ref))
        ]
        assert.deepStrictEqual(
          errors.map((e) => e.code),
          ["PROJECT_NOT_FOUND", "PROJECT_NOT_FOUND", "PROJECT_NOT_FOUND"]
        )
        const found = yield* releases.build(admin, ref)
        assert.strictEqual(found.build.id, "windows-x64")
      })
    )

    it.effect("sees nothing when its list of projects is empty", () =>
      Effect.gen(function* () {
        const releases = yield* Releases
        assert.lengthOf(yield* releases.visibleProjects(restrictedTo()), 0)
        const error = yield* Effect.flip(releases.project(restrictedTo(), "trackly"))
        assert.deepStrictEqual(error.details?.available_projects, [])
      })
    )
  })

  describe("channels, versions and builds", () => {
    it.effect("fails with CHANNEL_NOT_FOUND listing the project's channels", () =>
      Effect.gen(function* () {
        const releases = yield* Releases
        const error = yield* Effect.flip(releases.channel(admin, "trackly", "nightly"))
        assert.instanceOf(error, ChannelNotFound)
        assert.strictEqual(error.code, "CHANNEL_NOT_FOUND")
        assert.strictEqual(error.status, 404)
        assert.deepStrictEqual(error.details, {
          project: "trackly",
          channel: "nightly",
          available_channels: ["stable", "beta", "dev"]
        })
      })
    )

    it.effect.each(["1.2.5", "v1.2.5", "1.2.5+meta", "v1.2.5+build.1"])("finds version 1.2.5 spelt %s", (spelling) =>
      Effect.gen(function* () {
        const releases = yield* Releases
        const view = yield* releases.version(admin, "trackly", "stable", spelling)
        assert.strictEqual(view.version.version.id, "1.2.5")
        assert.strictEqual(view.channel.channel.id, "stable")
        assert.strictEqual(view.project.project.id, "trackly")
      })
    )

    it.effect.each([
      { versionId: "1.2.4", why: "a version the channel never had" },
      { versionId: "1.3.0-beta.1", why: "a version of another channel" },
      { versionId: "1.2.5-rc.1", why: "a pre-release of an existing version" },
      { versionId: "latest", why: "text that is not a version" },
      { versionId: "", why: "an empty id" }
    ])("fails with VERSION_NOT_FOUND for $why", ({ versionId }) =>
      Effect.gen(function* () {
        const releases = yield* Releases
        const error = yield* Effect.flip(releases.version(admin, "trackly", "stable", versionId))
        assert.instanceOf(error, VersionNotFound)
        assert.strictEqual(error.code, "VERSION_NOT_FOUND")
        assert.strictEqual(error.status, 404)
        assert.deepStrictEqual(error.details, { project: "trackly", channel: "stable", version: versionId })
      })
    )

    it.effect("finds a build, whatever spelling of its version is used", () =>
      Effect.gen(function* () {
        const releases = yield* Releases
        const view = yield* releases.build(admin, {
          project: "trackly",
          channel: "stable",
          version: "v1.2.5",
          build: "macos-universal"
        })
        assert.strictEqual(view.build.architecture, "universal")
        assert.strictEqual(view.version.version.id, "1.2.5")
      })
    )

    it.effect("fails with BUILD_NOT_FOUND listing the version's builds", () =>
      Effect.gen(function* () {
        const releases = yield* Releases
        const ref = { project: "trackly", channel: "stable", version: "1.2.5", build: "macos-arm64" }
        const error = yield* Effect.flip(releases.build(admin, ref))
        assert.instanceOf(error, BuildNotFound)
        assert.strictEqual(error.code, "BUILD_NOT_FOUND")
        assert.strictEqual(error.status, 404)
        assert.deepStrictEqual(error.details, {
          ...ref,
          available_builds: [
            "windows-x64",
            "windows-arm64",
            "linux-x64",
            "linux-arm64",
            "macos-universal",
            "macos-universal-zip",
            "windows-x64-nupkg"
          ]
        })
      })
    )

    it.effect("reports the first missing level of a build reference", () =>
      Effect.gen(function* () {
        const releases = yield* Releases
        const codeFor = (project: string, channelId: string, versionId: string) =>
          Effect.map(
            Effect.flip(releases.build(admin, { project, channel: channelId, version: versionId, build: "nope" })),
            (e) => e.code
          )
        assert.strictEqual(yield* codeFor("nope", "nope", "9.9.9"), "PROJECT_NOT_FOUND")
        assert.strictEqual(yield* codeFor("trackly", "nope", "9.9.9"), "CHANNEL_NOT_FOUND")
        assert.strictEqual(yield* codeFor("trackly", "stable", "9.9.9"), "VERSION_NOT_FOUND")
        assert.strictEqual(yield* codeFor("trackly", "stable", "1.2.5"), "BUILD_NOT_FOUND")
      })
    )
  })
})

describe("Releases.recordDownload", () => {
  it.effect("counts each recorded download under its build's key", () =>
    Effect.gen(function* () {
      const releases = yield* Releases
      const ref = { project: "trackly", channel: "stable", version: "1.2.5", build: "windows-x64" }
      const other = { ...ref, build: "linux-x64" }
      assert.strictEqual((yield* releases.recordedDownloads).size, 0)
      yield* releases.recordDownload(ref)
      assert.strictEqual((yield* releases.recordedDownloads).get(keyOf(ref)), 1)
      yield* releases.recordDownload(ref)
      yield* releases.recordDownload(other)
      const counts = yield* releases.recordedDownloads
      assert.strictEqual(counts.get(keyOf(ref)), 2)
      assert.strictEqual(counts.get(keyOf(other)), 1)
      assert.strictEqual(counts.get("trackly/stable/1.2.5/windows-x64"), 2)
    }).pipe(Effect.provide(releasesLayer()))
  )
})

describe("Releases.findVersion", () => {
  const indexed = indexChannel(channel("stable", [version("1.0.0"), version("1.2.0+build.3"), version("2.0.0-rc.1")]))

  it.each([
    { wanted: "1.0.0", found: "1.0.0" },
    { wanted: "v1.0.0", found: "1.0.0" },
    { wanted: "1.2.0+build.3", found: "1.2.0+build.3" },
    { wanted: "1.2.0", found: "1.2.0+build.3" },
    { wanted: "v1.2.0+other", found: "1.2.0+build.3" },
    { wanted: "2.0.0-rc.1", found: "2.0.0-rc.1" },
    { wanted: "2.0.0", found: undefined },
    { wanted: "2.0.0-rc", found: undefined },
    { wanted: "1.0", found: undefined }
  ])("$wanted -> $found", ({ wanted, found }) => {
    assert.strictEqual(findVersion(indexed, wanted)?.version.id, found)
  })
})
