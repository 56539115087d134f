import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import * as GitHubReleaseSource from "../../src/releases/github/GitHubReleaseSource.ts"
import { catalogOf, closeAfterEach, scoped } from "./support.ts"

const { track, fake } = closeAfterEach()

const trackly = { id: "trackly", name: "Trackly", repository: "lunarbit/trackly" } as const

/** A source that synchronises only when asked, resuming from `resume`, as a Worker runs it. */
const resumable = async (apiUrl: string, resume?: ReadonlyMap<string, GitHubReleaseSource.SavedRepository>) =>
  track(await scoped(GitHubReleaseSource.makeResumable({ projects: [trackly], apiUrl, background: false, resume })))
    .value

const stableVersions = async (source: GitHubReleaseSource.Resumable["source"]) =>
  (await catalogOf(source)).projectsById
    .get("trackly")
    ?.channels.get("stable")
    ?.versions.map((v) => v.version.id)

/** The saved state as it travels between processes: JSON text. */
const throughJson = (
  saved: ReadonlyMap<string, GitHubReleaseSource.SavedRepository>
): ReadonlyMap<string, GitHubReleaseSource.SavedRepository> =>
  new Map(Object.entries(JSON.parse(JSON.stringify(Object.fromEntries(saved)))))

/** A repository with one release, synchronised once by a first source, and that source's saved state. */
const syncedOnce = async () => {
  const github = await fake()
  github.release("lunarbit/trackly", { tag: "v1.0.0", assets: [{ name: "trackly-1.0.0-win-x64.exe", content: "MZ" }] })
  const first = await resumable(github.url)
  await Effect.runPromise(first.source.sync!)
  return { github, saved: throughJson(await Effect.runPromise(first.saved)) }
}

describe("GitHubReleaseSource resumed from saved state", () => {
  it("does not synchronise until asked when its background synchronisation is off", async () => {
    const github = await fake()
    github.release("lunarbit/trackly", {
      tag: "v1.0.0",
      assets: [{ name: "trackly-1.0.0-win-x64.exe", content: "MZ" }]
    })
    const first = await resumable(github.url)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(github.listRequests()).toEqual([])
    expect((await Effect.runPromise(first.source.sync!))[0]).toMatchObject({ status: "updated" })
  })

  it("serves the saved projects at once and asks GitHub with the saved ETag", async () => {
    const { github, saved } = await syncedOnce()

    const second = await resumable(github.url, saved)
    // Before any request to GitHub, the catalog is the one saved.
    expect(await stableVersions(second.source)).toEqual(["1.0.0"])
    const [outcome] = await Effect.runPromise(second.source.sync!)
    expect(outcome).toMatchObject({ status: "unchanged", projects: ["trackly"] })
    const lists = github.listRequests()
    expect(lists).toHaveLength(2)
    expect(lists[1]).toMatchObject({ status: 304, ifNoneMatch: expect.any(String) })
    expect(await stableVersions(second.source)).toEqual(["1.0.0"])
  })

  it("keeps serving the saved projects when the first synchronisation fails", async () => {
    const { github, saved } = await syncedOnce()
    github.refuse({ status: 429, retryAfter: 60 })
    const second = await resumable(github.url, saved)
    expect((await Effect.runPromise(second.source.sync!))[0]).toMatchObject({ status: "failed", projects: ["trackly"] })
    expect(await stableVersions(second.source)).toEqual(["1.0.0"])
  })
})
