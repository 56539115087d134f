import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { buildAndPack, checkTarball, run, type Tarball } from "../../scripts/tarballs.ts"

/**
 * The packages as someone installs them from npm: built, packed, installed from the tarballs into a
 * project outside the workspace (their public dependencies come from the registry), then used the
 * way the README says.
 */

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const workspaceTsc = here("../../node_modules/.bin/tsc")
const adminKey = "consumer-admin-key-0123456789abcdef0123"

let dir = ""
let tarballs: ReadonlyArray<Tarball> = []
const npmCache = () => join(dir, "npm-cache")

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "lunarbit-consumer-"))
  mkdirSync(join(dir, "tarballs"))
  tarballs = await buildAndPack(join(dir, "tarballs"))
  cpSync(here("project"), join(dir, "app"), { recursive: true })
  writeFileSync(join(dir, "app/package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }))
  const typesNode = JSON.parse(readFileSync(here("../../package.json"), "utf8")).devDependencies["@types/node"]
  // npm's cache lives in the temporary folder too: the test leaves nothing behind.
  const install = ["install", "--no-audit", "--no-fund", "--loglevel=error", `--cache=${npmCache()}`]
  await run("npm", [...install, ...tarballs.map((t) => t.path), `@types/node@${typesNode}`], join(dir, "app"))
}, 600_000)

afterAll(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true })
})

/** Starts a command in the consumer project and waits for the address it prints. */
const serve = async (command: string, args: ReadonlyArray<string>, env: Record<string, string>) => {
  const child: ChildProcess = spawn(command, args, {
    cwd: join(dir, "app"),
    env: { PATH: process.env.PATH ?? "", API_KEY_ADMIN: adminKey, BUILD_VERIFICATION: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout?.on("data", (chunk) => (output += chunk))
  child.stderr?.on("data", (chunk) => (output += chunk))
  const deadline = Date.now() + 60_000
  let port: string | undefined
  while (port === undefined && child.exitCode === null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    port = /(?:listening on|Listening on) http:\/\/[^:\s]+:(\d+)/.exec(output)?.[1]
  }
  if (port === undefined) throw new Error(`${command} did not start:\n${output}`)
  const stop = async () => {
    if (child.exitCode !== null) return
    const exited = once(child, "exit")
    child.kill("SIGTERM")
    await exited
  }
  return { url: (path: string) => `http://127.0.0.1:${port}${path}`, stop }
}

const auth = { authorization: `Bearer ${adminKey}` }

describe("the published packages", () => {
  it("ship their built modules, declarations, README and license, and nothing else", () => {
    expect(tarballs.map((t) => t.name).sort()).toEqual([
      "@lunarbit/gateway-core",
      "@lunarbit/gateway-node",
      "@lunarbit/gateway-workers"
    ])
    for (const { files } of tarballs) {
      expect(files).toEqual(expect.arrayContaining(["LICENSE", "README.md", "package.json", "dist/index.js"]))
      expect(files).toContain("dist/index.d.ts")
      expect(files).toContain("dist/index.d.ts.map")
      expect(
        files.filter((f) => !/^(dist\/.+\.(js|d\.ts|d\.ts\.map|json)|LICENSE|README\.md|package\.json)$/.test(f))
      ).toEqual([])
    }
  })

  it("pass publint and arethetypeswrong", async () => {
    for (const tarball of tarballs) await checkTarball(tarball)
  }, 300_000)

  it("embed in a plain node:http application under a prefix, with the example catalog shipped inside, and their client calls it", async () => {
    const app = await serve("node", ["app.mjs"], {})
    try {
      const health = await fetch(app.url("/gateway/health"))
      expect(health.status).toBe(200)
      expect(await health.json()).toMatchObject({ status: "healthy" })

      const update = await fetch(
        app.url(
          "/gateway/projects/trackly/channels/stable/update?current_version=1.0.0&platform=windows&architecture=x64"
        ),
        { headers: auth }
      )
      expect(update.status).toBe(200)
      expect(await update.json()).toMatchObject({ update_available: true, current_version: "1.0.0" })

      const anonymous = await fetch(app.url("/gateway/projects/trackly/channels/stable/update?current_version=1.0.0"))
      expect(anonymous.status).toBe(401)
      expect(await anonymous.json()).toMatchObject({ error: { code: "UNAUTHORIZED" } })

      expect(await (await fetch(app.url("/elsewhere"))).text()).toBe("the application\n")

      const checked = await run("node", ["check.mjs", app.url("/gateway"), adminKey], join(dir, "app"))
      expect(JSON.parse(checked)).toMatchObject({ update_available: true, current_version: "1.0.0" })
    } finally {
      await app.stop()
    }
  })

  it("type-check in a TypeScript project with nodenext resolution and skipLibCheck off", async () => {
    await expect(run(workspaceTsc, ["-p", "tsconfig.json"], join(dir, "app"))).resolves.toBe("")
  }, 120_000)

  it("install the lunarbit-gateway command, which explains itself and serves a catalog file", async () => {
    const help = await run(
      "npx",
      [`--cache=${npmCache()}`, "--no-install", "lunarbit-gateway", "--help"],
      join(dir, "app")
    )
    expect(help).toContain("Usage: lunarbit-gateway")
    expect(help).toContain("CATALOG_FILE")

    writeFileSync(join(dir, "app/catalog.json"), JSON.stringify(catalog))
    const server = await serve(join(dir, "app/node_modules/.bin/lunarbit-gateway"), [], {
      CATALOG_FILE: "catalog.json",
      PORT: "0",
      HOST: "127.0.0.1"
    })
    try {
      const projects = await fetch(server.url("/projects"), { headers: auth })
      expect(projects.status).toBe(200)
      const body = (await projects.json()) as { projects: ReadonlyArray<{ id: string }> }
      expect(body.projects.map((p) => p.id)).toEqual(["consumer-app"])
    } finally {
      await server.stop()
    }
  })
})

const catalog = {
  projects: [
    {
      id: "consumer-app",
      name: "Consumer App",
      description: "The one project of the consumer test's catalog",
      created_at: "2026-01-01T00:00:00Z",
      updated_at: "2026-01-01T00:00:00Z",
      channels: [
        {
          id: "stable",
          name: "Stable",
          auto_update: true,
          versions: [
            {
              id: "1.0.0",
              release_notes: "First release",
              breaking_changes: false,
              published_at: "2026-01-01T00:00:00Z",
              builds: [
                {
                  id: "linux-x64",
                  platform: "linux",
                  architecture: "x64",
                  file_name: "consumer-app-1.0.0-linux-x64.tar.gz",
                  file_size: 1024,
                  download_url: "https://downloads.example.com/consumer-app-1.0.0-linux-x64.tar.gz",
                  checksum: { sha256: "0".repeat(64) }
                }
              ]
            }
          ]
        }
      ]
    }
  ]
}
