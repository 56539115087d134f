import { createHash } from "node:crypto"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { adminKey, type RunningGateway, startGateway } from "../../packages/adapter-node/test/support/gateway.ts"
import { type Installation, update } from "./launcher.ts"

const build = Buffer.from("the 2.0.0 build of the example application\n".repeat(1000))
const corrupted = Buffer.from("not the build the gateway published")

/** A CDN on loopback: `/app-2.0.0.tar.gz` is the build, `/app-2.1.0.tar.gz` bytes that do not match it. */
const startCdn = async () => {
  const server: Server = createServer((request, response) => {
    const body = request.url === "/app-2.0.0.tar.gz" ? build : request.url === "/app-2.1.0.tar.gz" ? corrupted : null
    response.writeHead(body === null ? 404 : 200).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return { url: (path: string) => `http://127.0.0.1:${port}${path}`, close: () => server.close() }
}

const version = (id: string, url: string, sha256: string) => ({
  id,
  release_notes: `Release ${id}`,
  breaking_changes: false,
  published_at: "2026-03-01T00:00:00Z",
  builds: [
    {
      id: "linux-x64",
      platform: "linux",
      architecture: "x64",
      file_name: `app-${id}.tar.gz`,
      file_size: build.length,
      download_url: url,
      checksum: { sha256 },
      status: "verified"
    }
  ]
})

const catalog = (cdn: Awaited<ReturnType<typeof startCdn>>) => ({
  projects: [
    {
      id: "app",
      name: "App",
      description: "The application the example launcher keeps up to date",
      created_at: "2026-01-01T00:00:00Z",
      updated_at: "2026-03-01T00:00:00Z",
      channels: [
        {
          id: "stable",
          name: "Stable",
          auto_update: true,
          versions: [version("2.0.0", cdn.url("/app-2.0.0.tar.gz"), createHash("sha256").update(build).digest("hex"))]
        },
        {
          id: "beta",
          name: "Beta",
          auto_update: false,
          versions: [version("2.1.0", cdn.url("/app-2.1.0.tar.gz"), createHash("sha256").update(build).digest("hex"))]
        }
      ]
    }
  ]
})

describe("the example launcher", () => {
  let dir: string
  let cdn: Awaited<ReturnType<typeof startCdn>>
  let gateway: RunningGateway
  let installation: Installation

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "launcher-client-"))
    cdn = await startCdn()
    writeFileSync(join(dir, "catalog.json"), JSON.stringify(catalog(cdn)))
    gateway = await startGateway({ CATALOG_FILE: join(dir, "catalog.json"), LOG_LEVEL: "fatal" })
    installation = {
      gatewayUrl: gateway.url(""),
      apiKey: adminKey,
      projectId: "app",
      channel: "stable",
      currentVersion: "1.0.0",
      platform: "linux",
      architecture: "x64",
      directory: join(dir, "downloads")
    }
  })

  afterAll(async () => {
    await gateway.close()
    cdn.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it("downloads the newer build and keeps it once its SHA-256 matches", async () => {
    const outcome = await update(installation)
    // From 1.x to 2.0.0 is a major bump, which the gateway reports as breaking.
    expect(outcome).toMatchObject({ updated: true, version: "2.0.0", breaking: true })
    if (!outcome.updated) return
    expect(readFileSync(outcome.file).equals(build)).toBe(true)
  })

  it("does nothing when the installation is current", async () => {
    expect(await update({ ...installation, currentVersion: "2.0.0" })).toEqual({ updated: false, version: "2.0.0" })
  })

  it("refuses a download whose checksum differs, and keeps nothing of it", async () => {
    await expect(update({ ...installation, channel: "beta" })).rejects.toThrow(/checksum mismatch for 2.1.0/)
    expect(existsSync(join(dir, "downloads", "app-2.1.0.tar.gz"))).toBe(false)
    expect(existsSync(join(dir, "downloads", "app-2.1.0.tar.gz.partial"))).toBe(false)
  })
})
