/**
 * `npm run bench`: the gateway against a raw `node:http` baseline measured in the same run, over
 * loopback with autocannon. Each server runs in its own process; autocannon runs here.
 * BENCH_SECONDS sets the duration of each case (5 s by default). Two tables: the release and update
 * API against a raw server, and the AI proxy against a raw reverse proxy (bench/ai.ts).
 */
import { reportAi, runAiBench } from "./ai.ts"
import { measure, type Row, report, startServer } from "./support.ts"

const adminKey = "bench-admin-key-0123456789abcdef0123456789"
const gatewayScript = new URL("../packages/adapter-node/src/main.ts", import.meta.url).pathname
const rawScript = new URL("./raw-server.ts", import.meta.url).pathname

const stateDir = `${process.env.TMPDIR ?? "/tmp"}/lunarbit-bench-${process.pid}`

const raw = await startServer(rawScript)
// Warm the JIT before measuring.
await measure("warm-up", { url: raw.url, duration: 1 })
const baseline = await measure("raw node:http, fixed JSON (baseline)", { url: raw.url })
await raw.stop()

const gateway = await startServer(gatewayScript, {
  API_KEY_ADMIN: adminKey,
  // The benchmark is one client on one address: lift the per-address limits, keep the per-key one.
  RATE_LIMIT_IP_MAX: "1000000000",
  RATE_LIMIT_UNAUTHENTICATED_MAX: "1000000000",
  LUNARBIT_STATE_DIR: stateDir,
  DATABASE_PATH: `${stateDir}/gateway.db`
})
const created = await fetch(`${gateway.url}/admin/keys`, {
  method: "POST",
  headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
  body: JSON.stringify({
    name: `bench-${Date.now()}`,
    permissions: { canReadProjects: true, canReadVersions: true, canCheckUpdates: true },
    rateLimit: 10_000_000
  })
})
const key = ((await created.json()) as { key: string }).key
const auth = { authorization: `Bearer ${key}` }
await measure("warm-up", { url: `${gateway.url}/health`, duration: 2 })
const rows: Array<Row> = [
  baseline,
  await measure("gateway GET /health", { url: `${gateway.url}/health` }),
  await measure("gateway authenticated update check (key with its own limit)", {
    url: `${gateway.url}/projects/trackly/channels/stable/update?current_version=1.1.0&platform=windows&architecture=x64`,
    headers: auth
  }),
  await measure("gateway authenticated GET /projects/trackly", {
    url: `${gateway.url}/projects/trackly`,
    headers: auth
  })
]
await gateway.stop()

report("Release and update API (32 connections)", rows, baseline)
const update = rows[2]!
const ratio = update.requestsPerSecond / baseline.requestsPerSecond
console.log(
  `\nTarget: authenticated update check >= 0.5x baseline: ${ratio >= 0.5 ? "met" : "NOT met"} (${ratio.toFixed(2)}x)`
)

// The AI proxy path: the gateway against a raw node:http reverse proxy to the same local upstream.
reportAi(await runAiBench())
