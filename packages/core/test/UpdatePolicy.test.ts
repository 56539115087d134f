import { assert, describe, it } from "@effect/vitest"
import type { Platform } from "../src/releases/domain/Catalog.ts"
import type { IndexedChannel } from "../src/releases/domain/CatalogIndex.ts"
import * as Semver from "../src/releases/domain/Semver.ts"
import * as UpdatePolicy from "../src/releases/domain/UpdatePolicy.ts"
import { build, channel, everyBuild, indexChannel, version } from "./fixtures.ts"

/** A decision reduced to what a client sees, so tables can state the expected answer in one line. */
type Outcome =
  | { readonly update: string; readonly build: string; readonly breaking: boolean }
  | { readonly upToDate: string | undefined }

const update = (id: string, breaking: boolean, buildId = "windows-x64"): Outcome => ({
  update: id,
  build: buildId,
  breaking
})
const upToDate = (id: string | undefined): Outcome => ({ upToDate: id })

/** Adds a readable `says` to each row, for test names. */
const named = <Row extends { readonly expected: Outcome }>(rows: ReadonlyArray<Row>) =>
  rows.map((row) => ({
    ...row,
    says:
      "update" in row.expected
        ? `update to ${row.expected.update}${row.expected.breaking ? " (breaking)" : ""}`
        : `up to date at ${row.expected.upToDate ?? "nothing"}`
  }))

const decide = (
  indexed: IndexedChannel,
  current: string,
  platform: Platform = "windows",
  architecture: "x64" | "arm64" = "x64"
): Outcome => {
  const parsed = Semver.parse(current)
  if (parsed === undefined) throw new Error(`'${current}' is not a version`)
  const decision = UpdatePolicy.decide(indexed, { current: parsed, platform, architecture })
  return decision._tag === "UpdateAvailable"
    ? { update: decision.latest.version.id, build: decision.build.id, breaking: decision.breakingChanges }
    : { upToDate: decision.latest?.version.id }
}

const windowsOnly = [build("windows", "x64")]
const linuxOnly = [build("linux", "x64")]

describe("UpdatePolicy.decide: direction", () => {
  // The shape of the spec's trackly/stable: a breaking 1.2.0 between 1.1.0 and the latest 1.2.5.
  const stable = indexChannel(
    channel("stable", [
      version("1.0.0"),
      version("1.1.0"),
      version("1.2.0", { breaking: true }),
      version("1.2.3"),
      version("1.2.5")
    ])
  )

  it.each(
    named([
      { current: "1.0.0", expected: update("1.2.5", true) },
      { current: "1.1.0", expected: update("1.2.5", true) },
      { current: "1.2.0", expected: update("1.2.5", false) },
      { current: "1.2.3", expected: update("1.2.5", false) },
      { current: "1.2.4", expected: update("1.2.5", false) },
      { current: "1.2.5-rc.1", expected: update("1.2.5", false) },
      { current: "1.2.5", expected: upToDate("1.2.5") },
      { current: "1.2.5+build.7", expected: upToDate("1.2.5") },
      { current: "1.2.6", expected: upToDate("1.2.5") },
      { current: "9.0.0", expected: upToDate("1.2.5") },
      { current: "1.3.0-beta.1", expected: upToDate("1.2.5") }
    ])
  )("current $current: $says", ({ current, expected }) => {
    assert.deepStrictEqual(decide(stable, current), expected)
  })

  it("offers nothing from an empty channel", () => {
    assert.deepStrictEqual(decide(indexChannel(channel("stable", [])), "1.0.0"), upToDate(undefined))
  })

  it("finds the newest version whatever order the catalog lists versions in", () => {
    const shuffled = indexChannel(channel("stable", [version("1.2.3"), version("1.10.0"), version("1.9.0")]))
    assert.deepStrictEqual(decide(shuffled, "1.2.3"), update("1.10.0", false))
  })
})

describe("UpdatePolicy.decide: breaking changes over the (current, latest] window", () => {
  it("counts a breaking version equal to the latest", () => {
    const indexed = indexChannel(channel("stable", [version("1.1.0"), version("1.2.0", { breaking: true })]))
    assert.deepStrictEqual(decide(indexed, "1.1.0"), update("1.2.0", true))
  })

  it("does not count a breaking version equal to the current one", () => {
    const indexed = indexChannel(channel("stable", [version("1.2.0", { breaking: true }), version("1.2.5")]))
    assert.deepStrictEqual(decide(indexed, "1.2.0"), update("1.2.5", false))
  })

  it("does not count a breaking version equal to the current one spelt with build metadata", () => {
    const indexed = indexChannel(channel("stable", [version("1.2.0+b.1", { breaking: true }), version("1.2.5")]))
    assert.deepStrictEqual(decide(indexed, "1.2.0"), update("1.2.5", false))
  })

  it("does not count a breaking version older than the current one", () => {
    const indexed = indexChannel(
      channel("stable", [version("1.0.0", { breaking: true }), version("1.1.0"), version("1.2.0")])
    )
    assert.deepStrictEqual(decide(indexed, "1.1.0"), update("1.2.0", false))
  })

  it("counts a skipped breaking version even though it has no build for this platform", () => {
    const indexed = indexChannel(
      channel("stable", [version("1.1.0"), version("1.2.0", { breaking: true, builds: linuxOnly }), version("1.2.1")])
    )
    assert.deepStrictEqual(decide(indexed, "1.1.0"), update("1.2.1", true))
  })

  it("ignores a breaking version newer than the latest installable one", () => {
    const indexed = indexChannel(
      channel("stable", [version("1.1.0"), version("1.2.0"), version("1.3.0", { breaking: true, builds: linuxOnly })])
    )
    assert.deepStrictEqual(decide(indexed, "1.1.0", "windows"), update("1.2.0", false))
    assert.deepStrictEqual(decide(indexed, "1.1.0", "linux"), update("1.3.0", true, "linux-x64"))
  })

  it("counts a breaking pre-release that a stable channel skips on the way to its release", () => {
    const indexed = indexChannel(
      channel("stable", [version("1.2.5"), version("1.3.0-rc.1", { breaking: true }), version("1.3.0")])
    )
    assert.deepStrictEqual(decide(indexed, "1.2.5"), update("1.3.0", true))
  })

  it("treats a major version bump as breaking without a marker", () => {
    const indexed = indexChannel(channel("stable", [version("1.9.0"), version("2.0.0", { breaking: false })]))
    assert.deepStrictEqual(decide(indexed, "1.9.0"), update("2.0.0", true))
  })

  it("does not treat the release of the current major's own pre-release as a major bump", () => {
    const indexed = indexChannel(channel("beta", [version("2.0.0-rc.1"), version("2.0.0")]))
    assert.deepStrictEqual(decide(indexed, "2.0.0-rc.1"), update("2.0.0", false))
  })

  it("reports no breaking changes when nothing in the window is marked and the major is unchanged", () => {
    const indexed = indexChannel(channel("stable", [version("1.1.0"), version("1.2.0"), version("1.3.0")]))
    assert.deepStrictEqual(decide(indexed, "1.1.0"), update("1.3.0", false))
  })
})

describe("UpdatePolicy.decide: pre-releases", () => {
  const versions = [version("1.2.5"), version("1.3.0-beta.1"), version("1.3.0-beta.2")]

  it.each(
    named([
      {
        channelId: "beta",
        allowPrerelease: undefined,
        current: "1.3.0-beta.1",
        expected: update("1.3.0-beta.2", false)
      },
      { channelId: "beta", allowPrerelease: undefined, current: "1.2.5", expected: update("1.3.0-beta.2", false) },
      { channelId: "dev", allowPrerelease: undefined, current: "1.2.5", expected: update("1.3.0-beta.2", false) },
      { channelId: "beta", allowPrerelease: undefined, current: "1.3.0-beta.2", expected: upToDate("1.3.0-beta.2") },
      { channelId: "stable", allowPrerelease: undefined, current: "1.2.5", expected: upToDate("1.2.5") },
      { channelId: "stable", allowPrerelease: undefined, current: "1.2.0", expected: update("1.2.5", false) },
      { channelId: "stable", allowPrerelease: true, current: "1.2.5", expected: update("1.3.0-beta.2", false) },
      { channelId: "beta", allowPrerelease: false, current: "1.2.5", expected: upToDate("1.2.5") }
    ])
  )(
    "$channelId (allow_prerelease $allowPrerelease), current $current: $says",
    ({ channelId, allowPrerelease, current, expected }) => {
      const options = allowPrerelease === undefined ? {} : { allowPrerelease }
      assert.deepStrictEqual(decide(indexChannel(channel(channelId, versions, options)), current), expected)
    }
  )

  it("moves a pre-release user on to the release", () => {
    const indexed = indexChannel(channel("beta", [version("1.3.0-beta.2"), version("1.3.0")]))
    assert.deepStrictEqual(decide(indexed, "1.3.0-beta.2"), update("1.3.0", false))
  })

  it("latestOf gives the newest version the channel offers", () => {
    const latest = (channelId: string) => UpdatePolicy.latestOf(indexChannel(channel(channelId, versions)))?.version.id
    assert.strictEqual(latest("stable"), "1.2.5")
    assert.strictEqual(latest("beta"), "1.3.0-beta.2")
    assert.isUndefined(UpdatePolicy.latestOf(indexChannel(channel("stable", [version("2.0.0-alpha.1")]))))
  })
})

describe("UpdatePolicy.decide: platforms and builds", () => {
  it("offers the newest version that has a build for the client's platform", () => {
    const indexed = indexChannel(
      channel("stable", [version("1.2.0"), version("1.2.3"), version("1.2.5", { builds: linuxOnly })])
    )
    assert.deepStrictEqual(decide(indexed, "1.2.0", "windows"), update("1.2.3", false))
    assert.deepStrictEqual(decide(indexed, "1.2.0", "linux"), update("1.2.5", false, "linux-x64"))
  })

  it("is up to date when no newer version has a build for the client, naming the newest installable", () => {
    const indexed = indexChannel(channel("stable", [version("1.2.3"), version("1.2.5", { builds: linuxOnly })]))
    assert.deepStrictEqual(decide(indexed, "1.2.3", "windows"), upToDate("1.2.3"))
  })

  it("is up to date with no latest when the client's platform has no build at all", () => {
    const indexed = indexChannel(
      channel("stable", [version("1.0.0", { builds: linuxOnly }), version("1.1.0", { builds: linuxOnly })])
    )
    assert.deepStrictEqual(decide(indexed, "1.0.0", "windows"), upToDate(undefined))
  })

  it("matches the architecture as well as the platform", () => {
    const indexed = indexChannel(channel("stable", [version("1.0.0"), version("1.1.0", { builds: windowsOnly })]))
    assert.deepStrictEqual(decide(indexed, "1.0.0", "windows", "x64"), update("1.1.0", false))
    assert.deepStrictEqual(decide(indexed, "1.0.0", "windows", "arm64"), upToDate("1.0.0"))
  })

  it.each(["x64", "arm64"] as const)("macOS %s falls back to a universal build", (architecture) => {
    const builds = [build("windows", "x64"), build("macos", "universal")]
    const indexed = indexChannel(channel("stable", [version("1.0.0"), version("1.1.0", { builds })]))
    assert.deepStrictEqual(decide(indexed, "1.0.0", "macos", architecture), update("1.1.0", false, "macos-universal"))
  })

  it("macOS prefers the exact architecture over a universal build", () => {
    const builds = [build("macos", "universal"), build("macos", "arm64")]
    const indexed = indexChannel(channel("stable", [version("1.0.0"), version("1.1.0", { builds })]))
    assert.deepStrictEqual(decide(indexed, "1.0.0", "macos", "arm64"), update("1.1.0", false, "macos-arm64"))
    assert.deepStrictEqual(decide(indexed, "1.0.0", "macos", "x64"), update("1.1.0", false, "macos-universal"))
  })

  it.each(["windows", "linux"] as const)("%s never falls back to a universal build", (platform) => {
    const builds = [build("windows", "universal"), build("linux", "universal")]
    const indexed = indexChannel(channel("stable", [version("1.0.0"), version("1.1.0", { builds })]))
    assert.deepStrictEqual(decide(indexed, "1.0.0", platform), upToDate("1.0.0"))
  })

  it("never offers a build whose checksum does not match", () => {
    const builds = [build("windows", "x64", { status: "checksum_mismatch" }), build("linux", "x64")]
    const indexed = indexChannel(channel("stable", [version("1.2.3"), version("1.2.5", { builds })]))
    assert.deepStrictEqual(decide(indexed, "1.2.0", "windows"), update("1.2.3", false))
    assert.deepStrictEqual(decide(indexed, "1.2.3", "windows"), upToDate("1.2.3"))
    assert.deepStrictEqual(decide(indexed, "1.2.0", "linux"), update("1.2.5", false, "linux-x64"))
  })

  it("macOS falls back to universal when the exact build's checksum does not match, and not to a bad universal", () => {
    const fallback = [build("macos", "arm64", { status: "checksum_mismatch" }), build("macos", "universal")]
    const badUniversal = [build("macos", "universal", { status: "checksum_mismatch" })]
    const indexed = indexChannel(
      channel("stable", [
        version("1.0.0"),
        version("1.1.0", { builds: fallback }),
        version("1.2.0", { builds: badUniversal })
      ])
    )
    assert.deepStrictEqual(decide(indexed, "1.0.0", "macos", "arm64"), update("1.1.0", false, "macos-universal"))
  })

  it.each(["verified", "unverified", "unreachable"] as const)("offers a build with status %s", (status) => {
    const indexed = indexChannel(
      channel("stable", [version("1.0.0"), version("1.1.0", { builds: [build("windows", "x64", { status })] })])
    )
    assert.deepStrictEqual(decide(indexed, "1.0.0"), update("1.1.0", false))
  })

  it("buildFor picks the build for the exact platform and architecture", () => {
    const indexed = indexChannel(channel("stable", [version("1.0.0", { builds: everyBuild })]))
    const only = indexed.versions[0]!
    assert.strictEqual(UpdatePolicy.buildFor(only, "linux", "arm64")?.id, "linux-arm64")
    assert.strictEqual(UpdatePolicy.buildFor(only, "macos", "x64")?.id, "macos-x64")
  })
})

describe("UpdatePolicy.buildFor: Rosetta and feed formats", () => {
  const rosetta = (builds: ReadonlyArray<ReturnType<typeof build>>, translated: boolean) =>
    UpdatePolicy.buildFor(
      indexChannel(channel("stable", [version("1.0.0", { builds })])).versions[0]!,
      "macos",
      "x64",
      {
        translated
      }
    )?.id

  it("offers an x64 process under translation the arm64 build, then universal, then x64", () => {
    const all = [build("macos", "x64"), build("macos", "universal"), build("macos", "arm64")]
    assert.strictEqual(rosetta(all, true), "macos-arm64")
    assert.strictEqual(rosetta(all, false), "macos-x64")
    assert.strictEqual(rosetta([build("macos", "x64"), build("macos", "universal")], true), "macos-universal")
    assert.strictEqual(rosetta([build("macos", "x64")], true), "macos-x64")
  })

  it("never offers a Squirrel.Windows package as an installer, and lets a feed choose its own builds", () => {
    const nupkg = { ...build("windows", "x64", { id: "nupkg" }), file_name: "App-1.0.0-full.nupkg" }
    const only = indexChannel(channel("stable", [version("1.0.0", { builds: [nupkg] })])).versions[0]!
    assert.isUndefined(UpdatePolicy.buildFor(only, "windows", "x64"))
    assert.strictEqual(UpdatePolicy.buildFor(only, "windows", "x64", { accepts: UpdatePolicy.isNupkg })?.id, "nupkg")
  })
})
