import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import exampleCatalog from "../../../examples/catalog.json" with { type: "json" }
import { InvalidCatalog } from "../src/errors/Errors.ts"
import * as CatalogLoader from "../src/releases/domain/CatalogLoader.ts"
import { build, catalog, channel, project, version } from "./fixtures.ts"

const problemsOf = (error: InvalidCatalog): ReadonlyArray<string> => {
  const problems = error.details?.problems
  assert.isArray(problems)
  return problems as ReadonlyArray<string>
}

const pathOf = (problem: string): string => problem.slice(0, problem.indexOf(":"))

/** A deep copy of a document as plain JSON, so a test can break one field the type would not allow. */
const mutable = (document: unknown): any => JSON.parse(JSON.stringify(document))

const firstBuild = "projects.0.channels.0.versions.0.builds.0"
/** A valid one-build catalog with one field of its first build replaced. */
const withBuildField = (field: string, value: unknown): unknown => {
  const document = mutable(catalog(project("app", [channel("stable", [version("1.0.0")])])))
  document.projects[0].channels[0].versions[0].builds[0][field] = value
  return document
}

describe("CatalogLoader.load", () => {
  it.effect("loads the example catalog and indexes every project and channel", () =>
    Effect.gen(function* () {
      const index = yield* CatalogLoader.load(exampleCatalog)
      assert.deepStrictEqual(
        index.projects.map((p) => p.project.id),
        ["trackly", "csviewer", "lunarbit-launcher"]
      )
      const trackly = index.projectsById.get("trackly")
      assert.deepStrictEqual([...(trackly?.channels.keys() ?? [])], ["stable", "beta", "dev"])
      const stable = trackly?.channels.get("stable")
      assert.deepStrictEqual(
        stable?.versions.map((v) => v.version.id),
        ["1.2.5", "1.2.3", "1.2.0", "1.1.0", "1.0.0"]
      )
      assert.isFalse(stable?.allowPrerelease)
      assert.isTrue(trackly?.channels.get("beta")?.allowPrerelease)
      assert.strictEqual(stable?.versionsById.get("1.2.5")?.builds.get("macos-universal")?.architecture, "universal")
    })
  )

  it.effect("loads the example catalog from its JSON text", () =>
    Effect.gen(function* () {
      const index = yield* CatalogLoader.loadText(JSON.stringify(exampleCatalog))
      assert.strictEqual(index.projects.length, 3)
    })
  )

  it.effect("lists every problem of an invalid document with its path", () =>
    Effect.gen(function* () {
      const document = mutable(catalog(project("app", [channel("stable", [version("1.0.0"), version("1.1.0")])])))
      const stable = document.projects[0].channels[0]
      stable.versions[0].id = "1.02.0"
      stable.versions[0].builds[0].file_size = -1
      stable.versions[1].builds[2].platform = "beos"
      delete stable.versions[1].builds[3].download_url
      delete document.projects[0].name

      const error = yield* Effect.flip(CatalogLoader.load(document))
      assert.instanceOf(error, InvalidCatalog)
      assert.strictEqual(error.code, "INVALID_CATALOG")
      const problems = problemsOf(error)
      assert.sameMembers(problems.map(pathOf), [
        "projects.0.channels.0.versions.0.id",
        "projects.0.channels.0.versions.0.builds.0.file_size",
        "projects.0.channels.0.versions.1.builds.2.platform",
        "projects.0.channels.0.versions.1.builds.3.download_url",
        "projects.0.name"
      ])
      const about = (path: string) => problems.find((problem) => problem.startsWith(`${path}:`)) ?? ""
      assert.match(about("projects.0.channels.0.versions.0.id"), /SemVer/)
      assert.match(about("projects.0.channels.0.versions.0.builds.0.file_size"), /greater than or equal to 0/)
      assert.match(about("projects.0.channels.0.versions.1.builds.2.platform"), /windows/)
      assert.match(about("projects.0.name"), /Missing key/)
    })
  )

  it.effect.each([
    { name: "a document that is not an object", document: null, path: "(root)" },
    { name: "a document without projects", document: {}, path: "projects" },
    {
      name: "a build URL that is not http(s)",
      document: withBuildField("download_url", "ftp://x"),
      path: "download_url"
    },
    { name: "an unknown architecture", document: withBuildField("architecture", "riscv"), path: "architecture" },
    { name: "an unknown build status", document: withBuildField("status", "fine"), path: "status" },
    { name: "a fractional file size", document: withBuildField("file_size", 1.5), path: "file_size" },
    { name: "a malformed sha256", document: withBuildField("checksum", { sha256: "abc" }), path: "checksum.sha256" }
  ])("rejects $name", ({ document, path }) =>
    Effect.gen(function* () {
      const problems = problemsOf(yield* Effect.flip(CatalogLoader.load(document)))
      const fullPath = path === "(root)" || path === "projects" ? path : `${firstBuild}.${path}`
      assert.deepStrictEqual(problems.map(pathOf), [fullPath])
    })
  )

  it.effect("reports duplicate project, channel, version and build ids, each with its path", () =>
    Effect.gen(function* () {
      const twice = [build("windows", "x64"), build("linux", "x64", { id: "windows-x64" })]
      const document = catalog(
        project("app", [
          channel("stable", [version("1.0.0", { builds: twice }), version("1.1.0"), version("1.1.0")]),
          channel("stable", [version("1.0.0")])
        ]),
        project("app", [channel("beta", [version("2.0.0")])])
      )
      const error = yield* Effect.flip(CatalogLoader.load(document))
      assert.strictEqual(error.message, "The catalog is inconsistent")
      assert.includeMembers(
        [...problemsOf(error)],
        [
          "projects: duplicate id 'app'",
          "projects.app.channels: duplicate id 'stable'",
          "projects.app.channels.stable.versions: duplicate id '1.1.0'",
          "projects.app.channels.stable.versions.1.0.0.builds: duplicate id 'windows-x64'"
        ]
      )
    })
  )

  it.effect.each([
    { a: "1.2.0", b: "1.2.0+build.7" },
    { a: "1.2.0+build.1", b: "1.2.0+build.2" },
    { a: "1.2.0", b: "v1.2.0" }
  ])("reports $a and $b as duplicates: they have the same precedence", ({ a, b }) =>
    Effect.gen(function* () {
      const document = catalog(project("app", [channel("stable", [version(a), version(b)])]))
      const problems = problemsOf(yield* Effect.flip(CatalogLoader.load(document)))
      assert.deepStrictEqual(problems, ["projects.app.channels.stable.versions: duplicate id '1.2.0'"])
    })
  )

  it.effect("accepts the same version id in two channels and the same build id in two versions", () =>
    Effect.gen(function* () {
      const document = catalog(
        project("app", [channel("stable", [version("1.0.0"), version("1.1.0")]), channel("beta", [version("1.0.0")])])
      )
      const index = yield* CatalogLoader.load(document)
      assert.strictEqual(index.projectsById.get("app")?.channels.size, 2)
    })
  )
})

describe("CatalogLoader.loadText", () => {
  it.effect.each(["", "{projects: []}", "not json", '{"projects": [', "\u0000"])("rejects non-JSON text %j", (text) =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(CatalogLoader.loadText(text))
      assert.instanceOf(error, InvalidCatalog)
      assert.strictEqual(error.message, "The catalog is not valid JSON")
      assert.lengthOf(problemsOf(error), 1)
    })
  )

  it.effect("checks the parsed JSON like load does", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(CatalogLoader.loadText('{"projects": [{"id": "app"}]}'))
      assert.strictEqual(error.message, "The catalog is invalid")
      assert.includeMembers([...problemsOf(error)], ["projects.0.name: Missing key"])
    })
  )
})
