/**
 * `npm run bench`: the gateway against a raw `node:http` baseline measured in the same run, over
 * loopback with autocannon. Each server runs in its own process; autocannon runs here.
 * BENCH_SECONDS sets the duration of each case (5 s by default).
 */
import { measure, report, startServer } from "./support.ts"

const adminKey = "bench-admin-key-0123456789abcdef0123456789"
const gatewayScript = new URL("../packages/adapter-node/src/main.ts", import.meta.url).pathname
const rawScript = new URL("./raw-server.ts", import.meta.url).pathname

const raw = await startServer(rawScript)
const baseline = await measure("raw node:http, fixed JSON (baseline)", { url: raw.url })
await raw.stop()

const gateway = await startServer(gatewayScript, { API_KEY_ADMIN: adminKey })
const auth = { authorization: `Bearer ${adminKey}` }
// Warm the JIT before measuring.
await measure("warm-up", { url: `${gateway.url}/health`, duration: 2 })
const rows = [
  baseline,
  await measure("gateway GET /health", { url: `${gateway.url}/health` }),
  await measure("gateway authenticated update check", {
    url: `${gateway.url}/projects/trackly/channels/stable/update?current_version=1.1.0&platform=windows&architecture=x64`,
    headers: auth
  })
]
await gateway.stop()

report("Release and update API (32 connections)", rows, baseline)
const update = rows[2]!
const ratio = update.requestsPerSecond / baseline.requestsPerSecond
console.log(`\nTarget: authenticated update check >= 0.5x baseline: ${ratio >= 0.5 ? "met" : "NOT met"} (${ratio.toFixed(2)}x)`)
