import { ConfigProvider, Context, Effect, Layer } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import * as NodeArtifactDigest from "../../../adapter-node/src/NodeArtifactDigest.ts"
import { buildVerification, GatewayConfig, github as githubConfig } from "../../src/config/GatewayConfig.ts"
import * as GitHubReleaseSource from "../../src/releases/github/GitHubReleaseSource.ts"
import * as ReleaseSource from "../../src/releases/ports/ReleaseSource.ts"
import * as BuildVerification from "../../src/releases/services/BuildVerification.ts"
import { startFakeGitHub } from "./FakeGitHub.ts"
import { catalogOf, eventually, scoped } from "./support.ts"

const open: Array<{ close: () => Promise<void> }> = []
afterEach(async () => {
  for (const resource of open.splice(0).reverse()) await resource.close()
})

const withEnv = (env: Record<string, string>) => ConfigProvider.layer(ConfigProvider.fromUnknown(env))

/** Builds `layer` with `env` as the configuration and returns the release source it provides. */
const build = async <E>(
  layer: Layer.Layer<ReleaseSource.ReleaseSource, E, GatewayConfig>,
  env: Record<string, string>
) => {
  const running = await scoped(
    Effect.map(Layer.build(layer.pipe(Layer.provide(GatewayConfig.layer), Layer.provide(withEnv(env)))), (context) =>
      Context.get(context, ReleaseSource.ReleaseSource)
    )
  )
  open.push(running)
  return running.value
}

describe("GitHub configuration", () => {
  it("has defaults that need nothing set", async () => {
    const settings = await Effect.runPromise(githubConfig.parse(ConfigProvider.fromUnknown({})))
    expect(settings).toEqual({ apiUrl: "https://api.github.com", syncIntervalSeconds: 300, projects: [] })
    const verification = await Effect.runPromise(buildVerification.parse(ConfigProvider.fromUnknown({})))
    expect(verification).toEqual({ enabled: true, concurrency: 2, timeoutSeconds: 900 })
  })

  it("reads GITHUB_PROJECTS, GITHUB_API_URL, GITHUB_TOKEN and GITHUB_SYNC_INTERVAL", async () => {
    const token = "ghp_configured0123456789abcdefghij"
    const github = await startFakeGitHub({ token })
    open.push(github)
    github.repository("lunarbit/trackly", { private: true }).release("lunarbit/trackly", {
      tag: "trackly-v1.0.0-nightly.1",
      prerelease: true
    })
    const started = Date.now()
    const source = await build(GitHubReleaseSource.layerConfig, {
      GITHUB_API_URL: github.url,
      GITHUB_TOKEN: token,
      GITHUB_SYNC_INTERVAL: "1",
      GITHUB_PROJECTS: JSON.stringify([
        {
          id: "trackly",
          name: "Trackly",
          description: "Asset management",
          repository: "lunarbit/trackly",
          tag_prefix: "trackly-v",
          channels: [{ id: "nightly", tags: ["trackly-v*-nightly.*"], allow_prerelease: true }]
        }
      ])
    })
    const project = await eventually(async () => (await catalogOf(source)).projectsById.get("trackly"))
    expect(project.project.description).toBe("Asset management")
    expect(project.channels.get("nightly")!.versions.map((v) => v.version.id)).toEqual(["1.0.0-nightly.1"])
    // The second round comes one interval after the first, not before.
    await eventually(() => (github.listRequests().length >= 2 ? true : undefined), 5000)
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(github.listRequests()[1]!.status).toBe(304)
  })

  it("refuses GITHUB_PROJECTS that is not a valid list of projects", async () => {
    const layer = GitHubReleaseSource.layerConfig.pipe(
      Layer.provide(GatewayConfig.layer),
      Layer.provide(withEnv({ GITHUB_PROJECTS: JSON.stringify([{ id: "x", name: "X", repository: "not a repo" }]) }))
    )
    const exit = await Effect.runPromiseExit(Effect.scoped(Layer.build(layer)))
    expect(exit._tag).toBe("Failure")
    expect(String(exit)).toMatch(/GITHUB_PROJECTS/)
  })

  it("passes the source through when BUILD_VERIFICATION=false", async () => {
    const base = ReleaseSource.make({ name: "memory", catalog: Effect.never })
    const layer = BuildVerification.layerConfig.pipe(
      Layer.provide(Layer.succeed(ReleaseSource.ReleaseSource, base)),
      Layer.provide(NodeArtifactDigest.layer)
    )
    const source = await build(layer, { BUILD_VERIFICATION: "false" })
    expect(source).toBe(base)
  })
})
