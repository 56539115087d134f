/**
 * `npm run bench:observability`: what metrics cost. Two gateways at once, one without metrics and
 * one with `METRICS_PORT` (tracing off in both), measured on the authenticated update check in
 * interleaved rounds over loopback (autocannon, 32 connections), the order alternating each round;
 * each figure is the median of its rounds. `BENCH_SECONDS` (5) and `BENCH_ROUNDS` (5) set the length.
 */
import { startGateway, updatePath } from "./gateway.ts"
import { measure, median, type Row, report } from "./support.ts"

const seconds = Number(process.env.BENCH_SECONDS ?? 5)
const rounds = Number(process.env.BENCH_ROUNDS ?? 5)

const off = await startGateway()
const on = await startGateway({ METRICS_PORT: "0" })
const cases = [
  { name: "update check, metrics off", ...off },
  { name: "update check, metrics on", ...on }
]
for (const c of cases) {
  await measure("warm-up", { url: `${c.gateway.url}${updatePath}`, headers: c.auth, duration: 2 })
}
const measured: Array<Array<Row>> = cases.map(() => [])
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? [0, 1] : [1, 0]
  for (const i of order) {
    const c = cases[i]!
    measured[i]!.push(
      await measure(c.name, { url: `${c.gateway.url}${updatePath}`, headers: c.auth, duration: seconds })
    )
  }
}
const [withoutMetrics, withMetrics] = measured.map(median) as [Row, Row]
report(
  `Metrics: medians of ${rounds} interleaved rounds of ${seconds} s, 32 connections`,
  [withoutMetrics, withMetrics],
  withoutMetrics
)
const loss = 1 - withMetrics.requestsPerSecond / withoutMetrics.requestsPerSecond
console.log(`Metrics on: ${Math.max(0, loss * 100).toFixed(1)}% fewer requests per second (required <= 5%)`)
await Promise.all([off.gateway.stop(), on.gateway.stop()])
