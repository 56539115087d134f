/**
 * `node bench/cpu.ts`: CPU time each server spends per request (user + system, from /proc), for
 * the update check on the gateway, the Fastify peer and raw `node:http`. Unlike req/s, it holds on
 * a busy machine, so it guides work between full `npm run bench` runs.
 */
import { startGateway, updatePath } from "./gateway.ts"
import { cpuMicros, measure, startServer, warmUpSeconds } from "./support.ts"

const peerKey = "bench-peer-key-0123456789"
const amount = Number(process.env.CPU_REQUESTS ?? 30_000)
const here = (file: string) => new URL(file, import.meta.url).pathname
const raw = await startServer(here("./raw-server.ts"))
const peer = await startServer(here("./fastify-server.ts"), { PEER_KEY: peerKey })
// GATEWAY_NODE_OPTIONS adds Node flags to the gateway's own, to compare them.
const { gateway, auth } = await startGateway({}, (process.env.GATEWAY_NODE_OPTIONS ?? "").split(" ").filter(Boolean))
const cases = [
  { name: "raw", server: raw, path: "/", headers: {} },
  { name: "fastify update", server: peer, path: updatePath, headers: { authorization: `Bearer ${peerKey}` } },
  { name: "gateway update", server: gateway, path: updatePath, headers: auth },
  { name: "fastify health", server: peer, path: "/health", headers: {} },
  { name: "gateway health", server: gateway, path: "/health", headers: {} },
  { name: "fastify project", server: peer, path: "/projects/trackly", headers: { authorization: `Bearer ${peerKey}` } },
  { name: "gateway project", server: gateway, path: "/projects/trackly", headers: auth }
]
for (const c of cases)
  await measure("warm", { url: `${c.server.url}${c.path}`, headers: c.headers, duration: warmUpSeconds })
// Interleaved rounds; the least CPU each case took is the one least disturbed by other work.
const least = cases.map(() => Number.POSITIVE_INFINITY)
for (let round = 0; round < Number(process.env.CPU_ROUNDS ?? 3); round++) {
  for (const [i, c] of cases.entries()) {
    const before = cpuMicros(c.server.pid)
    await measure(c.name, { url: `${c.server.url}${c.path}`, headers: c.headers, amount })
    least[i] = Math.min(least[i]!, (cpuMicros(c.server.pid) - before) / amount)
  }
}
for (const [i, c] of cases.entries()) console.log(`${c.name.padEnd(16)} ${least[i]!.toFixed(1)} µs CPU per request`)
await Promise.all([raw.stop(), peer.stop(), gateway.stop()])
