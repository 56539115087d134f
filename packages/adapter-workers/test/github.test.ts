import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Miniflare } from "miniflare"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type FakeGitHub, startFakeGitHub } from "../../core/test/github/FakeGitHub.ts"
import { bundleWorker, deployedWorker } from "./bundle.ts"
import { adminKey, gatewayEnv } from "./exchanges.ts"

// The Worker, deployed with every binding, reaches the fake GitHub over loopback, from workerd, as it would reach api.github.com.
let github: FakeGitHub
let script: string
let miniflare: Miniflare
const persistRoot = mkdtempSync(join(tmpdir(), "lunarbit-workers-github-"))

const start = () =>
  deployedWorker(
    script,
    {
      ...gatewayEnv,
      GITHUB_API_URL: github.url,
      GITHUB_PROJECTS: JSON.stringify([{ id: "trackly", name: "Trackly", repository: "lunarbit/trackly" }])
    },
    persistRoot
  )

const publish = (tag: string) =>
  github.release("lunarbit/trackly", {
    tag,
    publishedAt: "2026-01-05T00:00:00Z",
    assets: [{ name: `trackly-${tag}-win-x64.exe`, content: "MZ windows build" }]
  })

const get = async (path: string, init: { method?: string } = {}) => {
  const response = await miniflare.dispatchFetch(`http://gateway.test${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${adminKey}` }
  })
  return { status: response.status, body: (await response.json()) as Record<string, any> }
}

const versions = async () => {
  const answer = await get("/projects/trackly/channels/stable/versions")
  return answer.status === 200 ? answer.body.versions.map((v: { id: string }) => v.id) : answer.status
}

// Miniflare types its Fetcher with its own copy of the Workers types.
type ScheduledFetcher = { scheduled: (options: { cron: string }) => Promise<{ outcome: string }> }
const cron = async () =>
  ((await miniflare.getWorker()) as unknown as ScheduledFetcher).scheduled({ cron: "*/5 * * * *" })

beforeAll(async () => {
  github = await startFakeGitHub()
  script = await bundleWorker()
  miniflare = start()
  await miniflare.ready
})
afterAll(async () => {
  await miniflare?.dispose()
  await github?.close()
  rmSync(persistRoot, { recursive: true, force: true })
})

describe("GitHub releases on a Worker", () => {
  it("serves nothing from GitHub, and says so, until the cron trigger has synchronised", async () => {
    publish("v1.0.0")
    expect(await versions()).toBe(404)
    const health = (await get("/health")).body
    expect(health).toMatchObject({ status: "degraded", sources: [{ name: "github", status: "degraded" }] })
    // The public probe carries statuses only; the reason is the admin's to read.
    expect(JSON.stringify(health)).not.toContain("last_error")
    expect((await get("/admin/sources")).body).toMatchObject({
      sources: [{ name: "github", status: "degraded", last_error: expect.stringContaining("cron trigger") }]
    })
    expect(github.listRequests()).toEqual([])
  })

  it("serves the releases the cron trigger stored, and asks GitHub with the stored ETag next time", async () => {
    expect(await cron()).toMatchObject({ outcome: "ok" })
    expect(await versions()).toEqual(["1.0.0"])
    expect((await get("/health")).body).toMatchObject({
      status: "healthy",
      sources: [{ name: "github:lunarbit/trackly", status: "ok" }]
    })
    await cron()
    expect(github.listRequests().map((r) => r.status)).toEqual([200, 304])
    expect(github.listRequests()[1]?.ifNoneMatch).toEqual(expect.any(String))
  })

  it("synchronises on POST /admin/sync", async () => {
    publish("v1.1.0")
    const sync = await get("/admin/sync", { method: "POST" })
    expect(sync.status).toBe(200)
    expect(sync.body.sources).toEqual([expect.objectContaining({ target: "lunarbit/trackly", status: "updated" })])
    expect(await versions()).toEqual(["1.1.0", "1.0.0"])
  })

  it("serves the stored catalog after a restart, and resumes with its ETags", async () => {
    await miniflare.dispose()
    miniflare = start()
    await miniflare.ready
    expect(await versions()).toEqual(["1.1.0", "1.0.0"])
    const before = github.listRequests().length
    await cron()
    expect(
      github
        .listRequests()
        .slice(before)
        .map((r) => r.status)
    ).toEqual([304])
  })
})
