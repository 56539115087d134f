import { once } from "node:events"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { adminKey } from "../support/gateway.ts"
import { type GatewayProcess, startProcess } from "../support/process.ts"

const admin = { authorization: `Bearer ${adminKey}` }
const build = "/projects/trackly/channels/stable/versions/1.0.0/builds/windows-x64"
/** The README's bound: counts are written in batches every 100 ms. */
const flushMs = 100
// Scheduling on a busy shared machine (processes descheduled, timers late): a batch may be written
// this much later than its interval says.
const slackMs = 400

interface Load {
  /** Completion time of every answered download. */
  readonly answeredAt: Array<number>
  readonly stop: () => Promise<void>
}

/** Downloads the build with `key` from `concurrency` loops until stopped or the process dies. */
const load = (gateway: GatewayProcess, key: string, concurrency = 6): Load => {
  const answeredAt: Array<number> = []
  let running = true
  const loop = async () => {
    while (running) {
      try {
        const response = await fetch(gateway.url(`${build}/download`), {
          headers: { authorization: `Bearer ${key}` },
          redirect: "manual"
        })
        if (response.status === 302) answeredAt.push(performance.now())
      } catch {
        return // the process is gone
      }
    }
  }
  const loops = Array.from({ length: concurrency }, loop)
  return {
    answeredAt,
    stop: async () => {
      running = false
      await Promise.all(loops)
    }
  }
}

const killHard = async (gateway: GatewayProcess) => {
  const exited = once(gateway.child, "exit")
  gateway.child.kill("SIGKILL")
  await exited
  return performance.now()
}

/** What the gateway stored: the key's request count and the build's download count. */
const stored = async (gateway: GatewayProcess, name: string) => {
  const stats = await (await fetch(gateway.url("/admin/keys/stats"), { headers: admin })).json()
  const details = await (await fetch(gateway.url(build), { headers: admin })).json()
  return { requests: stats.keys.find((k: any) => k.name === name)?.requests ?? 0, downloads: details.downloads }
}

describe("kill -9 of a gateway under load", () => {
  let gateway: GatewayProcess | undefined
  afterEach(async () => {
    await gateway?.stop()
    gateway = undefined
  })

  it(`loses at most the last ${flushMs} ms of usage and download counts`, async () => {
    const env = {
      API_KEY_ADMIN: adminKey,
      DATABASE_PATH: join(mkdtempSync(join(tmpdir(), "lunarbit-crash-")), "gateway.db"),
      RATE_LIMIT_ENABLED: "false"
    }
    gateway = await startProcess(env)
    const created = await fetch(gateway.url("/admin/keys"), {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ name: "loaded", permissions: { canReadVersions: true } })
    })
    const { key } = await created.json()
    const before = await stored(gateway, "loaded")

    // Killed in the middle of the load: only what was answered in the last interval may be lost.
    const running = load(gateway, key)
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    const killedAt = await killHard(gateway)
    await running.stop()
    const answered = running.answeredAt.length
    const recent = running.answeredAt.filter((at) => at > killedAt - flushMs - slackMs).length
    expect(answered).toBeGreaterThan(50)

    gateway = await startProcess(env)
    const after = await stored(gateway, "loaded")
    const lostRequests = before.requests + answered - after.requests
    const lostDownloads = before.downloads + answered - after.downloads
    expect(lostRequests, `requests lost of ${answered}`).toBeLessThanOrEqual(recent)
    expect(lostDownloads, `downloads lost of ${answered}`).toBeLessThanOrEqual(recent)

    // Killed once the load has stopped for longer than the interval: nothing may be lost.
    const second = load(gateway, key)
    await new Promise((resolve) => setTimeout(resolve, 500))
    await second.stop()
    await new Promise((resolve) => setTimeout(resolve, flushMs + slackMs))
    await killHard(gateway)
    gateway = await startProcess(env)
    const final = await stored(gateway, "loaded")
    expect(final.downloads - after.downloads).toBe(second.answeredAt.length)
    expect(final.requests - after.requests).toBe(second.answeredAt.length)
  }, 60_000)
})
