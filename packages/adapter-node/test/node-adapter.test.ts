import type { ChildProcess } from "node:child_process"
import { once } from "node:events"
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { request } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { defaultCatalogPath } from "../src/FileReleaseSource.ts"
import { adminKey, auth, startGateway } from "./support/gateway.ts"
import { startProcess, waitFor } from "./support/process.ts"

const tempDir = () => mkdtempSync(join(tmpdir(), "lunarbit-node-"))

describe("the catalog file", () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  it("is reloaded when it changes, and a bad file never replaces the good catalog", async () => {
    const dir = tempDir()
    const file = join(dir, "catalog.json")
    copyFileSync(defaultCatalogPath, file)
    const gateway = await startGateway({ CATALOG_FILE: file })
    cleanups.push(gateway.close)
    const projects = async () =>
      ((await (await fetch(gateway.url("/projects"), { headers: auth })).json()) as any).total

    expect(await projects()).toBe(3)
    const catalog = JSON.parse(readFileSync(file, "utf8"))
    writeFileSync(file, JSON.stringify({ projects: catalog.projects.slice(0, 1) }))
    await waitFor(async () => (await projects()) === 1)

    writeFileSync(file, JSON.stringify({ projects: [{ id: "broken" }] }))
    await waitFor(() =>
      gateway.logs.some((line) => line.msg?.toString().includes("still serving the last good catalog"))
    )
    expect(await projects()).toBe(1)
    const health = (await (await fetch(gateway.url("/health"))).json()) as any
    expect(health.status).toBe("degraded")
    expect(health.sources[0].last_error).toBeUndefined()
    const sources = (await (await fetch(gateway.url("/admin/sources"), { headers: auth })).json()) as any
    expect(sources.sources[0].last_error).toContain("projects.0.name")

    // Editors often replace the file by renaming a new one over it.
    const replacement = join(dir, "catalog.json.tmp")
    writeFileSync(replacement, JSON.stringify(catalog))
    await import("node:fs/promises").then((fs) => fs.rename(replacement, file))
    await waitFor(async () => (await projects()) === 3)
    expect(((await (await fetch(gateway.url("/health"))).json()) as any).status).toBe("healthy")
  })

  it("refuses to start on an invalid file, listing every problem", async () => {
    const file = join(tempDir(), "catalog.json")
    writeFileSync(
      file,
      JSON.stringify({
        projects: [
          {
            id: "x",
            name: "X",
            created_at: "yesterday",
            updated_at: "2025-01-01T00:00:00Z",
            channels: [{ id: "stable", versions: [{ id: "1.0", published_at: "2025-01-01T00:00:00Z", builds: [] }] }]
          }
        ]
      })
    )
    const error = await startGateway({ CATALOG_FILE: file }).then(
      () => undefined,
      (e: unknown) => String(e)
    )
    expect(error).toContain("projects.0.created_at")
    expect(error).toContain("projects.0.channels.0.versions.0.id")
  })

  it("refuses to start when the file does not exist", async () => {
    const error = await startGateway({ CATALOG_FILE: "/nonexistent/catalog.json" }).then(() => undefined, String)
    expect(error).toContain("/nonexistent/catalog.json")
  })
})

describe("the lunarbit-gateway process", () => {
  let child: ChildProcess | undefined
  afterEach(() => {
    child?.kill("SIGKILL")
  })

  it("finishes requests in flight on SIGTERM, then exits", async () => {
    const started = await startProcess({ API_KEY_ADMIN: adminKey })
    child = started.child
    const body = JSON.stringify({
      client: { launcher_version: "2.0.0", os: "linux", architecture: "x64" },
      installed: []
    })
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: started.port,
          path: "/update/check",
          method: "POST",
          headers: { ...auth, "content-type": "application/json", "content-length": body.length }
        },
        (res) => {
          let text = ""
          res.on("data", (chunk) => (text += chunk))
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }))
        }
      )
      req.on("error", reject)
      // Half the body now, the rest after the signal: the request is in flight when it arrives.
      req.write(body.slice(0, 10))
      setTimeout(() => {
        child!.kill("SIGTERM")
        setTimeout(() => req.end(body.slice(10)), 300)
      }, 200)
    })
    const result = await answer
    const answeredAt = Date.now()
    expect(result.status).toBe(200)
    expect(JSON.parse(result.text).launcher_update.latest).toBe("2.1.0")
    // An orderly stop: exit code 0, so supervisors (Docker, systemd) do not count it a failure; and
    // at once, though the client keeps its connection alive (Node 24's default agent does).
    const [code] = await once(child, "exit")
    expect(code).toBe(0)
    expect(Date.now() - answeredAt).toBeLessThan(2_000)
    await expect(fetch(`http://127.0.0.1:${started.port}/health`)).rejects.toThrow()
  })

  it("writes readable lines with LOG_FORMAT=pretty", async () => {
    const started = await startProcess({ API_KEY_ADMIN: adminKey, LOG_FORMAT: "pretty" })
    child = started.child
    await fetch(`http://127.0.0.1:${started.port}/health`)
    await waitFor(() => started.output().includes("GET"))
    expect(started.output()).toMatch(
      /\d\d:\d\d:\d\d\.\d{3} INFO {2}request request_id=req_\w+ method=GET path=\/health status=200/
    )
  })

  it("creates a development admin key file when API_KEY_ADMIN is unset, without printing the key", async () => {
    const stateDir = tempDir()
    const started = await startProcess({ LUNARBIT_STATE_DIR: stateDir })
    child = started.child
    const key = readFileSync(join(stateDir, "admin-key"), "utf8").trim()
    expect(statSync(join(stateDir, "admin-key")).mode & 0o777).toBe(0o600)
    expect(key).toMatch(/^lbapi_[0-9A-Za-z]{49}$/)
    expect(started.output()).not.toContain(key)
    const response = await fetch(`http://127.0.0.1:${started.port}/projects`, {
      headers: { authorization: `Bearer ${key}` }
    })
    expect(response.status).toBe(200)
  })

  it("refuses to start in production without API_KEY_ADMIN", async () => {
    const started = await startProcess({ NODE_ENV: "production" })
    child = started.child
    await waitFor(() => child!.exitCode !== null)
    expect(child.exitCode).not.toBe(0)
    expect(started.output()).toContain("API_KEY_ADMIN is required when NODE_ENV=production")
  })
})
