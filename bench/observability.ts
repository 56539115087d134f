/**
 * `npm run bench:observability`: what metrics and traces cost. Three gateways at once: without
 * metrics, with `METRICS_PORT` (tracing off in both: the budget's case), and with metrics and
 * traces exported to a collector in this process that accepts and discards them. Each is measured
 * on the authenticated update check in interleaved rounds over loopback (autocannon, 32
 * connections), the order rotating each round; each figure is the median of its rounds.
 * `BENCH_SECONDS` (5) and `BENCH_ROUNDS` (5) set the length.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { startGateway, updatePath } from "./gateway.ts"
import { measure, median, type Row, report, warmUpSeconds } from "./support.ts"

const seconds = Number(process.env.BENCH_SECONDS ?? 5)
const rounds = Number(process.env.BENCH_ROUNDS ?? 5)

// A collector that reads each export and answers 200, as a healthy one does.
const collector = createServer((request, response) => {
  request.resume()
  request.on("end", () => response.writeHead(200, { "content-type": "application/json" }).end("{}"))
})
await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve))
const collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`

const cases = [
  { name: "update check, metrics off", ...(await startGateway()) },
  { name: "update check, metrics on", ...(await startGateway({ METRICS_PORT: "0" })) },
  {
    name: "update check, metrics and traces on",
    ...(await startGateway({ METRICS_PORT: "0", OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl }))
  }
]
for (const c of cases) {
  await measure("warm-up", { url: `${c.gateway.url}${updatePath}`, headers: c.auth, duration: warmUpSeconds })
}
const measured: Array<Array<Row>> = cases.map(() => [])
for (let round = 0; round < rounds; round++) {
  for (const i of cases.keys()) {
    const c = cases[(i + round) % cases.length]!
    const row = await measure(c.name, { url: `${c.gateway.url}${updatePath}`, headers: c.auth, duration: seconds })
    measured[cases.indexOf(c)]!.push(row)
  }
}
const [withoutMetrics, withMetrics, withTraces] = measured.map(median) as [Row, Row, Row]
report(
  `Observability: medians of ${rounds} interleaved rounds of ${seconds} s, 32 connections`,
  [withoutMetrics, withMetrics, withTraces],
  withoutMetrics
)
const loss = (row: Row) => Math.max(0, (1 - row.requestsPerSecond / withoutMetrics.requestsPerSecond) * 100).toFixed(1)
console.log(`Metrics on: ${loss(withMetrics)}% fewer requests per second (required <= 5%)`)
console.log(`Metrics and traces on: ${loss(withTraces)}% fewer requests per second`)
await Promise.all(cases.map((c) => c.gateway.stop()))
collector.close()
