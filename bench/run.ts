/**
 * `npm run bench`: the gateway against a raw `node:http` server and a hand-written Fastify peer, all
 * running at once, each in its own process, measured in interleaved rounds over loopback with
 * autocannon (32 connections); each figure is the median of its rounds. Then a fixed-rate run at
 * half of raw's saturation (added p99), the gateway's RSS at start and after 60,000 mixed requests,
 * and the AI proxy (bench/ai.ts, 4 s rounds by default). `BENCH_SECONDS` (3) and `BENCH_ROUNDS` (3) set the length.
 *
 * `npm run bench -- --profile` instead writes a CPU profile of the gateway's update check under load
 * and prints where the time goes, by component.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { reportAi, runAiBench } from "./ai.ts"
import { mixedRequests, sourceScript, startGateway, updatePath } from "./gateway.ts"
import { paced } from "./paced.ts"
import { topComponents } from "./profile.ts"
import {
  measure,
  median,
  peakMiB,
  type Row,
  report,
  rssMiB,
  type Server,
  startServer,
  warmUpSeconds
} from "./support.ts"

const peerKey = "bench-peer-key-0123456789"
const rawScript = new URL("./raw-server.ts", import.meta.url).pathname
const fastifyScript = new URL("./fastify-server.ts", import.meta.url).pathname
const seconds = Number(process.env.BENCH_SECONDS ?? 3)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const profiling = process.argv.includes("--profile")

if (profiling) {
  const dir = mkdtempSync(join(tmpdir(), "lunarbit-profile-"))
  // From its sources: the profile then names each function's file, which is how components are told apart.
  const { gateway, auth } = await startGateway({}, ["--cpu-prof", `--cpu-prof-dir=${dir}`], sourceScript)
  const duration = Math.max(seconds, 5)
  await measure("warm-up", { url: `${gateway.url}${updatePath}`, headers: auth, duration: warmUpSeconds })
  const row = await measure("gateway authenticated update check", {
    url: `${gateway.url}${updatePath}`,
    headers: auth,
    duration
  })
  await gateway.stop()
  // The last seconds of the profile are the load (the stop itself takes a few milliseconds).
  const { file, rows } = topComponents(dir, duration)
  console.log(`\n${Math.round(row.requestsPerSecond)} req/s while profiling; profile: ${file}`)
  console.log("| component | self time |\n|---|---:|")
  for (const { component, percent } of rows) console.log(`| ${component} | ${percent.toFixed(1)}% |`)
  process.exit(0)
}

const raw = await startServer(rawScript)
const peer = await startServer(fastifyScript, { PEER_KEY: peerKey })
const { gateway, auth } = await startGateway()
const rssAtStart = rssMiB(gateway.pid)
const peerAuth = { authorization: `Bearer ${peerKey}` }

interface Case {
  readonly name: string
  readonly server: Server
  readonly path: string
  readonly headers?: Record<string, string>
}
const cases: ReadonlyArray<Case> = [
  { name: "raw node:http, the update answer's bytes", server: raw, path: "/" },
  { name: "Fastify peer: update check", server: peer, path: updatePath, headers: peerAuth },
  { name: "gateway: authenticated update check", server: gateway, path: updatePath, headers: auth },
  { name: "Fastify peer: GET /health", server: peer, path: "/health" },
  { name: "gateway: GET /health", server: gateway, path: "/health" },
  { name: "Fastify peer: GET /projects/trackly", server: peer, path: "/projects/trackly", headers: peerAuth },
  { name: "gateway: GET /projects/trackly", server: gateway, path: "/projects/trackly", headers: auth }
]
const url = (c: Case) => `${c.server.url}${c.path}`

// Warm every server's JIT before measuring (see `warmUpSeconds`).
for (const c of cases) await measure("warm-up", { url: url(c), headers: c.headers ?? {}, duration: warmUpSeconds })
const measured: Array<Array<Row>> = cases.map(() => [])
for (let round = 0; round < rounds; round++) {
  for (const [i, c] of cases.entries()) {
    measured[i]!.push(await measure(c.name, { url: url(c), headers: c.headers ?? {}, duration: seconds }))
  }
}
const rows = measured.map(median)
const baseline = rows[0]!
report(
  `Release and update API: medians of ${rounds} interleaved rounds of ${seconds} s, 32 connections`,
  rows,
  baseline
)
for (const [gatewayRow, peerRow] of [
  [rows[2]!, rows[1]!],
  [rows[4]!, rows[3]!],
  [rows[6]!, rows[5]!]
] as const) {
  const ratio = gatewayRow.requestsPerSecond / peerRow.requestsPerSecond
  console.log(`${gatewayRow.name}: ${ratio.toFixed(2)}x the Fastify peer (required >= 1.0)`)
}
const toRaw = rows[2]!.requestsPerSecond / baseline.requestsPerSecond
console.log(`Authenticated update check: ${toRaw.toFixed(2)}x raw node:http (goal >= 0.5)`)

// Latency at a fixed rate, half of what raw saturates at: what the gateway adds at p99.
const rate = Math.round(baseline.requestsPerSecond / 2)
const fixedRaw = await paced("raw", { url: url(cases[0]!), rate, seconds })
const fixedGateway = await paced("gateway", { url: url(cases[2]!), headers: auth, rate, seconds })
console.log(
  `\nFixed rate ${rate} req/s: raw p99 ${fixedRaw.p99} ms, gateway p99 ${fixedGateway.p99} ms (added ${(fixedGateway.p99 - fixedRaw.p99).toFixed(1)} ms; goal < 2), gateway served ${Math.round(fixedGateway.requestsPerSecond)} req/s`
)

// Memory: 60,000 requests mixing valid, invalid and unauthenticated calls (bench/memory.ts).
await mixedRequests(gateway, auth)
console.log(
  `Gateway RSS: ${rssAtStart} MiB at start, ${rssMiB(gateway.pid)} MiB after 60,000 mixed requests (peak ${peakMiB(gateway.pid)} MiB)`
)
await Promise.all([raw.stop(), peer.stop(), gateway.stop()])

if (process.env.BENCH_AI !== "0") reportAi(await runAiBench())
