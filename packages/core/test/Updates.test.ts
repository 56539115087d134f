import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { ChannelNotFound, InvalidVersion, ProjectNotFound } from "../src/errors/Errors.ts"
import {
  type InstalledOutcome,
  type LauncherCheck,
  type UpdateCheck,
  type UpdateOutcome,
  Updates
} from "../src/releases/services/Updates.ts"
import { admin, restrictedTo, updatesLayer } from "./layers.ts"

/** What a client learns from one outcome, for one-line expectations. */
const summary = (outcome: UpdateOutcome) =>
  outcome.decision._tag === "UpdateAvailable"
    ? {
        update: outcome.decision.latest.version.id,
        build: outcome.decision.build.id,
        breaking: outcome.decision.breakingChanges
      }
    : { upToDate: outcome.decision.latest?.version.id }

const installedSummary = (entry: InstalledOutcome) =>
  entry._tag === "Checked"
    ? { project: entry.installed.project_id, ...summary(entry.outcome) }
    : { project: entry.installed.project_id, failed: entry.code }

const windowsCheck = (projectId: string, channelId: string, currentVersion: string): UpdateCheck => ({
  projectId,
  channelId,
  currentVersion,
  platform: "windows",
  architecture: "x64"
})

const launcher = { projectId: "lunarbit-launcher", channelId: "stable" }

const launcherCheck = (installed: LauncherCheck["installed"], launcherVersion = "2.1.0"): LauncherCheck => ({
  launcherVersion,
  platform: "windows",
  architecture: "x64",
  installed
})

layer(updatesLayer())("Updates over the example catalog", (it) => {
  describe("check", () => {
    it.effect.each([
      {
        check: windowsCheck("trackly", "stable", "1.2.3"),
        expected: { update: "1.2.5", build: "windows-x64", breaking: false }
      },
      {
        check: windowsCheck("trackly", "stable", "1.0.0"),
        expected: { update: "1.2.5", build: "windows-x64", breaking: true }
      },
      { check: windowsCheck("trackly", "stable", "1.2.5"), expected: { upToDate: "1.2.5" } },
      { check: windowsCheck("trackly", "stable", "v1.2.5"), expected: { upToDate: "1.2.5" } },
      { check: windowsCheck("trackly", "stable", "3.0.0"), expected: { upToDate: "1.2.5" } },
      {
        check: windowsCheck("trackly", "beta", "1.3.0-beta.1"),
        expected: { update: "1.3.0-beta.2", build: "windows-x64", breaking: false }
      },
      {
        check: { ...windowsCheck("trackly", "beta", "1.3.0-beta.1"), architecture: "arm64" },
        expected: { upToDate: "1.3.0-beta.1" }
      },
      {
        check: { ...windowsCheck("trackly", "stable", "1.2.3"), platform: "macos", architecture: "arm64" },
        expected: { update: "1.2.5", build: "macos-universal", breaking: false }
      },
      {
        check: windowsCheck("csviewer", "stable", "2.3.1"),
        expected: { update: "3.0.0", build: "windows-x64", breaking: true }
      }
    ] satisfies ReadonlyArray<{
      check: UpdateCheck
      expected: object
    }>)(
      "$check.projectId/$check.channelId $check.currentVersion on $check.platform $check.architecture",
      ({ check, expected }) =>
        Effect.gen(function* () {
          const updates = yield* Updates
          const outcome = yield* updates.check(admin, check)
          assert.deepStrictEqual(summary(outcome), expected)
          assert.strictEqual(outcome.currentVersion, check.currentVersion)
          assert.strictEqual(outcome.project.project.id, check.projectId)
          assert.strictEqual(outcome.channel.channel.id, check.channelId)
        })
    )

    it.effect.each(["", "1.2", "latest", " 1.2.3", "01.2.3", "1.2.3-"])(
      "fails with INVALID_VERSION (400) for current version %j",
      (currentVersion) =>
        Effect.gen(function* () {
          const updates = yield* Updates
          const error = yield* Effect.flip(updates.check(admin, windowsCheck("trackly", "stable", currentVersion)))
          assert.instanceOf(error, InvalidVersion)
          assert.strictEqual(error.code, "INVALID_VERSION")
          assert.strictEqual(error.status, 400)
          assert.deepStrictEqual(error.details, { field: "current_version", value: currentVersion })
        })
    )

    it.effect("bounds the echo of a very long invalid version", () =>
      Effect.gen(function* () {
        const updates = yield* Updates
        const huge = "x".repeat(10_000)
        const error = yield* Effect.flip(updates.check(admin, windowsCheck("trackly", "stable", huge)))
        assert.strictEqual(error.code, "INVALID_VERSION")
        assert.isBelow(error.message.length, 200)
        assert.strictEqual(String(error.details?.value).length, 256)
      })
    )

    it.effect("fails with PROJECT_NOT_FOUND and CHANNEL_NOT_FOUND for unknown ids", () =>
      Effect.gen(function* () {
        const updates = yield* Updates
        const project = yield* Effect.flip(updates.check(admin, windowsCheck("nonexistent", "stable", "1.0.0")))
        assert.instanceOf(project, ProjectNotFound)
        const channel = yield* Effect.flip(updates.check(admin, windowsCheck("trackly", "nightly", "1.0.0")))
        assert.instanceOf(channel, ChannelNotFound)
      })
    )

    it.effect("hides projects a restricted key may not see", () =>
      Effect.gen(function* () {
        const updates = yield* Updates
        const error = yield* Effect.flip(
          updates.check(restrictedTo("trackly"), windowsCheck("csviewer", "stable", "2.3.1"))
        )
        assert.instanceOf(error, ProjectNotFound)
        assert.deepStrictEqual(error.details?.available_projects, ["trackly"])
      })
    )
  })

  describe("launcherCheck", () => {
    it.effect("answers every installed project and the launcher itself", () =>
      Effect.gen(function* () {
        const updates = yield* Updates
        const outcome = yield* updates.launcherCheck(
          admin,
          launcherCheck([
            { project_id: "trackly", version: "1.0.0", channel: "stable" },
            { project_id: "csviewer", version: "3.0.0", channel: "stable" }
          ]),
          launcher
        )
        assert.deepStrictEqual(outcome.projects.map(installedSummary), [
          { project: "trackly", update: "1.2.5", build: "windows-x64", breaking: true },
          { project: "csviewer", upToDate: "3.0.0" }
        ])
        assert.strictEqual(outcome.launcherVersion, "2.1.0")
        assert.isDefined(outcome.launcher)
        assert.deepStrictEqual(summary(outcome.launcher!), { upToDate: "2.1.0" })
      })
    )

    it.effect("offers a launcher update to an older launcher", () =>
      Effect.gen(function* () {
        const updates = yield* Updates
        const outcome = yield* updates.launcherCheck(admin, launcherCheck([], "2.0.0"), launcher)
        assert.deepStrictEqual(summary(outcome.launcher!), { update: "2.1.0", build: "windows-x64", breaking: false })
        assert.lengthOf(outcome.projects, 0)
      })
    )

    it.effect("checks an entry without a channel against stable", () =>
      Effect.gen(function* () {
        const updates = yield* Updates
        const outcome = yield* updates.launcherCheck(
          admin,
          launcherCheck([{ project_id: "trackly", version: "1.2.3" }]),
          launcher
        )
        const [entry] = outcome.projects
        assert.strictEqual(entry?._tag, "Checked")
        if (entry?._tag === "Checked") assert.strictEqual(entry.outcome.channel.channel.id, "stable")
        assert.deepStrictEqual(outcome.projects.map(installedSummary), [
          { project: "trackly", update: "1.2.5", build: "windows-x64", breaking: false }
        ])
      })
    )

    it.effect("still answers the others when one entry fails, reporting that entry's error in its own slot", () =>
      Effect.gen(function* () {
        const updates = yield* Updates
        const outcome = yield* updates.launcherCheck(
          admin,
          launcherCheck([
            { project_id: "ghost", version: "1.0.0", channel: "stable" },
            { project_id: "trackly", version: "1.2.3", channel: "stable" },
            { project_id: "csviewer", version: "not-a-version", channel: "stable" },
            { project_id: "csviewer", version: "2.3.1", channel: "nightly" },
            { project_id: "csviewer", version: "2.3.1", channel: "stable" }
          ]),
          launcher
        )
        assert.deepStrictEqual(outcome.projects.map(installedSummary), [
          { project: "ghost", failed: "PROJECT_NOT_FOUND" },
          { project: "trackly", update: "1.2.5", build: "windows-x64", breaking: false },
          { project: "csviewer", failed: "INVALID_VERSION" },
          { project: "csviewer", failed: "CHANNEL_NOT_FOUND" },
          { project: "csviewer", update: "3.0.0", build: "windows-x64", breaking: true }
        ])
        const [ghost] = outcome.projects
        assert.strictEqual(ghost?._tag === "Failed" ? ghost.message : undefined, "Project 'ghost' not found")
        assert.deepStrictEqual(outcome.projects[2]?.installed, {
          project_id: "csviewer",
          version: "not-a-version",
          channel: "stable"
        })
      })
    )

    it.effect("reports projects a restricted key may not see as not found, and answers the rest", () =>
      Effect.gen(function* () {
        const updates = yield* Updates
        const outcome = yield* updates.launcherCheck(
          restrictedTo("trackly", "lunarbit-launcher"),
          launcherCheck([
            { project_id: "csviewer", version: "2.3.1", channel: "stable" },
            { project_id: "trackly", version: "1.2.5", channel: "stable" }
          ]),
          launcher
        )
        assert.deepStrictEqual(outcome.projects.map(installedSummary), [
          { project: "csviewer", failed: "PROJECT_NOT_FOUND" },
          { project: "trackly", upToDate: "1.2.5" }
        ])
        assert.isDefined(outcome.launcher)
      })
    )

    it.effect("does not invent a launcher answer for a key that may not see the launcher", () =>
      Effect.gen(function* () {
        const updates = yield* Updates
        const outcome = yield* updates.launcherCheck(
          restrictedTo("trackly"),
          launcherCheck([{ project_id: "trackly", version: "1.2.5", channel: "stable" }], "2.0.0"),
          launcher
        )
        assert.isUndefined(outcome.launcher)
        assert.strictEqual(outcome.launcherUnavailable, "not_visible")
        assert.deepStrictEqual(outcome.projects.map(installedSummary), [{ project: "trackly", upToDate: "1.2.5" }])
        const invalid = yield* Effect.flip(
          updates.launcherCheck(restrictedTo("trackly"), launcherCheck([], "two"), launcher)
        )
        assert.strictEqual(invalid.details?.field, "client.launcher_version")
      })
    )

    it.effect.each([
      { projectId: "no-such-launcher", channelId: "stable" },
      { projectId: "lunarbit-launcher", channelId: "nightly" }
    ])("yields launcher: undefined for an unconfigured launcher $projectId/$channelId", (unconfigured) =>
      Effect.gen(function* () {
        const updates = yield* Updates
        const outcome = yield* updates.launcherCheck(
          admin,
          launcherCheck([{ project_id: "trackly", version: "1.2.3", channel: "stable" }]),
          unconfigured
        )
        assert.isUndefined(outcome.launcher)
        assert.strictEqual(outcome.launcherUnavailable, "not_in_catalog")
        assert.strictEqual(outcome.launcherVersion, "2.1.0")
        assert.deepStrictEqual(outcome.projects.map(installedSummary), [
          { project: "trackly", update: "1.2.5", build: "windows-x64", breaking: false }
        ])
      })
    )

    it.effect("fails with INVALID_VERSION when the launcher's own version is invalid", () =>
      Effect.gen(function* () {
        const updates = yield* Updates
        const error = yield* Effect.flip(updates.launcherCheck(admin, launcherCheck([], "two"), launcher))
        assert.instanceOf(error, InvalidVersion)
        assert.strictEqual(error.code, "INVALID_VERSION")
        assert.strictEqual(error.details?.field, "client.launcher_version")
      })
    )
  })
})
