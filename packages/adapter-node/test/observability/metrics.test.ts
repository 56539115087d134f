import { networkInterfaces } from "node:os"
import { ApiKeyFormat } from "@lunarbit/gateway-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auth, type RunningGateway, startGateway } from "../support/gateway.ts"
import { waitFor } from "../support/process.ts"
import { metricsUrlOf, scrape } from "../support/prometheus.ts"

const updateRoute = "/projects/:projectId/channels/:channelId/update"
const updatePath = "/projects/trackly/channels/stable/update?current_version=1.1.0&platform=windows&architecture=x64"

let gateway: RunningGateway
let metricsUrl: string

beforeAll(async () => {
  // Generous limits: the cardinality test below sends 10,000 requests from one address.
  gateway = await startGateway({
    METRICS_PORT: "0",
    RATE_LIMIT_IP_MAX: "1000000",
    RATE_LIMIT_UNAUTHENTICATED_MAX: "1000000"
  })
  await waitFor(() => metricsUrlOf(gateway.logs) !== undefined)
  metricsUrl = metricsUrlOf(gateway.logs)!
})
afterAll(() => gateway.close())

describe("/metrics", () => {
  it("counts a known mix of requests by route template, method and status class, with duration buckets", async () => {
    const before = await scrape(metricsUrl)
    const requests = (labels: Record<string, string>) => before.value("lunarbit_http_requests_total", labels)
    const ok = requests({ route: updateRoute, method: "GET", status_class: "2xx" })
    const unauthorized = requests({ route: updateRoute, method: "GET", status_class: "4xx" })
    const unmatched = requests({ route: "unmatched", method: "GET", status_class: "4xx" })
    const missing = before.value("lunarbit_auth_failures_total", { reason: "missing" })
    const unknown = before.value("lunarbit_auth_failures_total", { reason: "unknown" })

    for (let i = 0; i < 3; i++) expect((await fetch(gateway.url(updatePath), { headers: auth })).status).toBe(200)
    expect((await fetch(gateway.url(`/api/v2${updatePath}`), { headers: auth })).status).toBe(200)
    expect((await fetch(gateway.url(updatePath))).status).toBe(401)
    // Well formed, checksum and all, but never issued.
    const forged = { authorization: `Bearer ${ApiKeyFormat.generate()}` }
    expect((await fetch(gateway.url(updatePath), { headers: forged })).status).toBe(401)
    for (const path of ["/no/such/thing", "/projects/trackly/nope/x"]) {
      expect((await fetch(gateway.url(path), { headers: auth })).status).toBe(404)
    }

    const after = await scrape(metricsUrl)
    expect(after.contentType).toContain("text/plain; version=0.0.4")
    const now = (labels: Record<string, string>) => after.value("lunarbit_http_requests_total", labels)
    // The `/api/v2` prefix is the same route: one series.
    expect(now({ route: updateRoute, method: "GET", status_class: "2xx" }) - ok).toBe(4)
    expect(now({ route: updateRoute, method: "GET", status_class: "4xx" }) - unauthorized).toBe(2)
    expect(now({ route: "unmatched", method: "GET", status_class: "4xx" }) - unmatched).toBe(2)
    expect(after.value("lunarbit_auth_failures_total", { reason: "missing" }) - missing).toBe(1)
    expect(after.value("lunarbit_auth_failures_total", { reason: "unknown" }) - unknown).toBe(1)

    const durations = after.histogram("lunarbit_http_request_duration_seconds", { route: updateRoute })!
    expect(after.type("lunarbit_http_request_duration_seconds")).toBe("histogram")
    // (A record lists integer-like keys first: sort by bound.)
    const counts = Object.entries(durations.buckets)
      .map(([bound, count]) => [bound === "+Inf" ? Infinity : Number(bound), count] as const)
      .sort((a, b) => a[0] - b[0])
    expect(counts).toHaveLength(16)
    // Cumulative buckets, ascending bounds; every request was under a minute.
    for (let i = 1; i < counts.length; i++) {
      expect(counts[i]![0]).toBeGreaterThan(counts[i - 1]![0])
      expect(counts[i]![1]).toBeGreaterThanOrEqual(counts[i - 1]![1])
    }
    expect(counts.at(-1)).toEqual([Infinity, durations.count])
    expect(counts.at(-2)).toEqual([60, durations.count])
    expect(durations.count).toBeGreaterThanOrEqual(6)
    expect(durations.sum).toBeGreaterThan(0)
    // No raw path, id or key in any label.
    for (const name of Object.keys(after.metrics)) {
      for (const labels of after.labelSets(name)) {
        for (const value of Object.values(labels)) expect(value).not.toMatch(/trackly|lbapi_|no\/such|test-admin-key/)
      }
    }
  })

  it("reports rate-limit rejections by bucket and the process's own figures", async () => {
    const limited = await startGateway({ METRICS_PORT: "0", RATE_LIMIT_UNAUTHENTICATED_MAX: "2" })
    try {
      await waitFor(() => metricsUrlOf(limited.logs) !== undefined)
      const statuses = []
      for (let i = 0; i < 4; i++) statuses.push((await fetch(limited.url("/projects"))).status)
      expect(statuses.filter((status) => status === 429)).toHaveLength(2)
      const after = await scrape(metricsUrlOf(limited.logs)!)
      expect(after.value("lunarbit_rate_limit_rejections_total", { bucket: "unauthenticated" })).toBe(2)
      expect(after.value("process_resident_memory_bytes")).toBeGreaterThan(1_000_000)
      expect(after.value("nodejs_heap_used_bytes")).toBeGreaterThan(0)
      expect(after.labelSets("nodejs_eventloop_lag_seconds").map((labels) => labels.stat)).toEqual([
        "mean",
        "p99",
        "max"
      ])
    } finally {
      await limited.close()
    }
  })

  it("keeps its series bounded: 10,000 requests with random paths, methods and keys add none", async () => {
    const random = () => Math.random().toString(36).slice(2)
    const send = (i: number) =>
      fetch(gateway.url(`/${random()}/${random()}?key=${random()}`), {
        method: ["GET", "POST", "DELETE", "PURGE"][i % 4]!,
        headers: { authorization: `Bearer ${i % 2 === 0 ? `lbapi_live_${random()}${random()}` : random()}` }
      }).then((response) => response.arrayBuffer())
    const burst = async (count: number) => {
      for (let start = 0; start < count; start += 100) {
        await Promise.all(Array.from({ length: Math.min(100, count - start) }, (_, i) => send(start + i)))
      }
    }
    await burst(200)
    // The gateway's own series; the process's (a first major GC, say) may appear at any time.
    const before = (await scrape(metricsUrl)).seriesCount("lunarbit_")
    await burst(10_000)
    const after = await scrape(metricsUrl)
    expect(after.seriesCount("lunarbit_")).toBe(before)
    expect(after.value("lunarbit_http_requests_total", { route: "unmatched", method: "other" })).toBeGreaterThan(2_000)
  }, 120_000)
})

describe("the metrics listener", () => {
  it("is on loopback only, apart from the API port, and serves nothing but /metrics", async () => {
    const url = new URL(metricsUrl)
    expect(url.hostname).toBe("127.0.0.1")
    expect(url.port).not.toBe(new URL(gateway.url("/")).port)
    // The public port has no /metrics: the figures never reach clients of the API.
    expect((await fetch(gateway.url("/metrics"), { headers: auth })).status).toBe(404)
    expect((await fetch(new URL("/", url))).status).toBe(404)
    expect((await fetch(url, { method: "POST" })).status).toBe(405)
    // Where the machine has another address, the listener cannot be reached through it.
    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address?.family === "IPv4" && !address.internal)
    if (external !== undefined) {
      await expect(fetch(`http://${external.address}:${url.port}/metrics`)).rejects.toThrow()
    }
  })

  it("is off unless METRICS_PORT is set", async () => {
    const plain = await startGateway()
    try {
      expect(metricsUrlOf(plain.logs)).toBeUndefined()
      expect((await fetch(plain.url("/metrics"), { headers: auth })).status).toBe(404)
    } finally {
      await plain.close()
    }
  })
})
