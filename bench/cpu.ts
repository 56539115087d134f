/**
 * `node bench/cpu.ts`: CPU time each server spends per request (user + system, from /proc), for
 * the update check on the gateway, the Fastify peer and raw `node:http`. Unlike req/s, it holds on
 * a busy machine, so it guides work between full `npm run bench` runs.
 */
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { measure, startServer } from "./support.ts"

const adminKey = "bench-admin-key-0123456789abcdef0123456789"
const peerKey = "bench-peer-key-0123456789"
const updatePath = "/projects/trackly/channels/stable/update?current_version=1.1.0&platform=windows&architecture=x64"
const amount = Number(process.env.CPU_REQUESTS ?? 30_000)
const ticks = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return Number(fields[11]) + Number(fields[12])
}
const stateDir = mkdtempSync(join(tmpdir(), "lunarbit-cpu-"))
const here = (file: string) => new URL(file, import.meta.url).pathname
const raw = await startServer(here("./raw-server.ts"))
const peer = await startServer(here("./fastify-server.ts"), { PEER_KEY: peerKey })
const gateway = await startServer(
  here("../packages/adapter-node/src/main.ts"),
  {
    API_KEY_ADMIN: adminKey,
    RATE_LIMIT_IP_MAX: "1000000000",
    RATE_LIMIT_UNAUTHENTICATED_MAX: "1000000000",
    LUNARBIT_STATE_DIR: stateDir,
    DATABASE_PATH: `${stateDir}/gateway.db`,
    BUILD_VERIFICATION: "false"
  },
  (process.env.GATEWAY_NODE_OPTIONS ?? "").split(" ").filter(Boolean)
)
const created = await fetch(`${gateway.url}/admin/keys`, {
  method: "POST",
  headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
  body: JSON.stringify({
    name: "cpu",
    permissions: { canReadProjects: true, canReadVersions: true, canCheckUpdates: true },
    rateLimit: 10_000_000
  })
})
const key = ((await created.json()) as { key: string }).key
const cases = [
  { name: "raw", server: raw, path: "/", headers: {} },
  { name: "fastify update", server: peer, path: updatePath, headers: { authorization: `Bearer ${peerKey}` } },
  { name: "gateway update", server: gateway, path: updatePath, headers: { authorization: `Bearer ${key}` } },
  { name: "fastify health", server: peer, path: "/health", headers: {} },
  { name: "gateway health", server: gateway, path: "/health", headers: {} },
  { name: "fastify project", server: peer, path: "/projects/trackly", headers: { authorization: `Bearer ${peerKey}` } },
  { name: "gateway project", server: gateway, path: "/projects/trackly", headers: { authorization: `Bearer ${key}` } }
]
for (const c of cases) await measure("warm", { url: `${c.server.url}${c.path}`, headers: c.headers, amount: 5_000 })
// Interleaved rounds; the least CPU each case took is the one least disturbed by other work.
const least = cases.map(() => Number.POSITIVE_INFINITY)
for (let round = 0; round < Number(process.env.CPU_ROUNDS ?? 3); round++) {
  for (const [i, c] of cases.entries()) {
    const before = ticks(c.server.pid)
    await measure(c.name, { url: `${c.server.url}${c.path}`, headers: c.headers, amount })
    least[i] = Math.min(least[i]!, ((ticks(c.server.pid) - before) * 10_000) / amount)
  }
}
for (const [i, c] of cases.entries()) console.log(`${c.name.padEnd(16)} ${least[i]!.toFixed(1)} µs CPU per request`)
await Promise.all([raw.stop(), peer.stop(), gateway.stop()])
