import { assert, describe, it } from "@effect/vitest"
import * as Semver from "../src/releases/domain/Semver.ts"

const parsed = (input: string): Semver.SemVer => {
  const version = Semver.parse(input)
  if (version === undefined) throw new Error(`expected '${input}' to parse`)
  return version
}

const order = (a: string, b: string): number => Math.sign(Semver.compare(parsed(a), parsed(b)))

// SemVer 2.0.0 section 11, then releases of rising major, minor and patch.
const chain = [
  "1.0.0-alpha",
  "1.0.0-alpha.1",
  "1.0.0-alpha.beta",
  "1.0.0-beta",
  "1.0.0-beta.2",
  "1.0.0-beta.11",
  "1.0.0-rc.1",
  "1.0.0",
  "2.0.0",
  "2.1.0",
  "2.1.1"
]

const ascendingPairs = chain.flatMap((lower, i) => chain.slice(i + 1).map((higher) => ({ lower, higher })))

describe("Semver precedence", () => {
  it.each(ascendingPairs)("$lower < $higher, and $higher > $lower", ({ lower, higher }) => {
    assert.strictEqual(order(lower, higher), -1)
    assert.strictEqual(order(higher, lower), 1)
  })

  it.each(chain)("%s equals itself", (version) => {
    assert.strictEqual(order(version, version), 0)
  })

  it("sorting a shuffled chain restores the section 11 order", () => {
    const shuffled = [7, 3, 10, 0, 5, 9, 1, 6, 2, 8, 4].map((i) => parsed(chain[i]!))
    const sorted = shuffled.sort(Semver.compare)
    assert.deepStrictEqual(sorted.map(Semver.format), chain)
  })

  it.each([
    { a: "1.0.0+build.1", b: "1.0.0+build.2" },
    { a: "1.0.0", b: "1.0.0+20130313144700" },
    { a: "1.0.0-alpha+001", b: "1.0.0-alpha" },
    { a: "1.0.0-beta+exp.sha.5114f85", b: "1.0.0-beta+zzz" }
  ])("build metadata is ignored: $a = $b", ({ a, b }) => {
    assert.strictEqual(order(a, b), 0)
    assert.strictEqual(order(b, a), 0)
  })

  it("build metadata never outranks a higher version", () => {
    assert.strictEqual(order("1.0.0+zzzzzz", "1.0.1+a"), -1)
  })

  it.each([
    { lower: "1.0.0-1", higher: "1.0.0-a", why: "numeric identifiers rank below alphanumeric ones" },
    { lower: "1.0.0-999", higher: "1.0.0-0a", why: "a digit-led identifier with a letter is alphanumeric" },
    { lower: "1.0.0-2", higher: "1.0.0-10", why: "numeric identifiers compare as numbers" },
    { lower: "1.0.0-alpha.2", higher: "1.0.0-alpha.10", why: "numeric identifiers compare as numbers" },
    { lower: "1.0.0-alpha-10", higher: "1.0.0-alpha-2", why: "alphanumeric identifiers compare lexically" },
    { lower: "1.0.0-Beta", higher: "1.0.0-alpha", why: "lexical order is ASCII order" },
    { lower: "1.0.0-alpha", higher: "1.0.0-alpha.0", why: "a longer identifier list ranks higher" },
    { lower: "1.9.0", higher: "1.10.0", why: "minor compares as a number" },
    { lower: "9.0.0", higher: "10.0.0", why: "major compares as a number" },
    { lower: "1.0.9", higher: "1.0.10", why: "patch compares as a number" },
    { lower: "1.0.0-rc.1", higher: "1.0.0", why: "a pre-release ranks below its release" },
    { lower: "1.0.0", higher: "1.0.1-alpha", why: "a pre-release of a later patch ranks above the release" }
  ])("$lower < $higher: $why", ({ lower, higher }) => {
    assert.strictEqual(order(lower, higher), -1)
    assert.strictEqual(order(higher, lower), 1)
  })
})

describe("Semver parsing", () => {
  it("splits the pre-release into numeric and alphanumeric identifiers and keeps build metadata", () => {
    assert.deepStrictEqual(Semver.parse("1.2.3-alpha.10.0a+build.007"), {
      major: 1,
      minor: 2,
      patch: 3,
      prerelease: ["alpha", 10, "0a"],
      build: ["build", "007"]
    })
  })

  it("accepts a leading v as in Git tags, with the same meaning", () => {
    assert.deepStrictEqual(Semver.parse("v1.2.3-beta.1"), Semver.parse("1.2.3-beta.1"))
    assert.strictEqual(order("v2.0.0", "2.0.0"), 0)
    assert.strictEqual(order("v1.9.0", "1.10.0"), -1)
  })

  it.each([
    "0.0.0",
    "1.2.3",
    "v1.2.3",
    "1.2.3-0",
    "1.2.3-alpha-1",
    "1.0.0-x.7.z.92",
    "1.0.0-x-y-z.--",
    "1.0.0+20130313144700",
    "1.0.0-beta+exp.sha.5114f85",
    "1.0.0+21AF26D3----117B344092BD",
    "1.2.3----RC-SNAPSHOT.12.9.1--.12+788",
    "1.0.0+0.build.1-rc.10000aaa-kk-0.1",
    `${Number.MAX_SAFE_INTEGER}.0.0`
  ])("accepts %s", (input) => {
    assert.isTrue(Semver.isValid(input))
  })

  it.each([
    { input: "", why: "empty" },
    { input: "1", why: "major only" },
    { input: "1.2", why: "no patch" },
    { input: "1.2.3.4", why: "four parts" },
    { input: "01.2.3", why: "leading zero in major" },
    { input: "1.02.3", why: "leading zero in minor" },
    { input: "1.2.03", why: "leading zero in patch" },
    { input: "1.2.3-01", why: "leading zero in a numeric pre-release identifier" },
    { input: "1.2.3-alpha.01", why: "leading zero in a later numeric identifier" },
    { input: "1.2.3-", why: "empty pre-release" },
    { input: "1.2.3+", why: "empty build metadata" },
    { input: "1.2.3-alpha..1", why: "empty pre-release identifier" },
    { input: "1.2.3+build..1", why: "empty build identifier" },
    { input: "1.2.3-alpha_beta", why: "underscore in a pre-release identifier" },
    { input: "1.2.3+b\u00e9ta", why: "non-ASCII build metadata" },
    { input: "a.b.c", why: "letters for numbers" },
    { input: "-1.2.3", why: "negative major" },
    { input: "vv1.2.3", why: "two leading v" },
    { input: "V1.2.3", why: "capital V" },
    { input: " 1.2.3", why: "leading space" },
    { input: "1.2.3 ", why: "trailing space" },
    { input: "\t1.2.3\n", why: "surrounding tab and newline" },
    { input: "1.2.3\n", why: "trailing newline" },
    { input: "1.2.3 - 2.0.0", why: "a range rather than a version" },
    { input: `1.2.3-${"a".repeat(300)}`, why: "well-formed but too long" },
    { input: "1".repeat(100_000), why: "very long hostile input" },
    { input: "9007199254740992.0.0", why: "major beyond the safe integers" },
    { input: "1.0.0-99999999999999999999", why: "numeric pre-release identifier beyond the safe integers" }
  ])("rejects $why", ({ input }) => {
    assert.isUndefined(Semver.parse(input))
    assert.isFalse(Semver.isValid(input))
  })

  it("reports pre-releases as such", () => {
    assert.isTrue(Semver.isPrerelease(parsed("1.0.0-rc.1")))
    assert.isFalse(Semver.isPrerelease(parsed("1.0.0+rc.1")))
  })
})

describe("Semver.format", () => {
  it.each([
    "0.0.0",
    "1.2.3",
    "1.2.3-0",
    "1.0.0-alpha.1",
    "1.0.0-x.7.z.92",
    "1.0.0-beta+exp.sha.5114f85",
    "1.0.0+21AF26D3----117B344092BD",
    "1.2.3----RC-SNAPSHOT.12.9.1--.12+788"
  ])("round trips %s", (input) => {
    assert.strictEqual(Semver.format(parsed(input)), input)
  })

  it("drops a leading v to give the canonical text", () => {
    assert.strictEqual(Semver.format(parsed("v1.2.3-rc.1+7")), "1.2.3-rc.1+7")
  })
})
