import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningGateway, startGateway } from "../support/gateway.ts"
import { waitFor } from "../support/process.ts"
import { metricsUrlOf, scrape } from "../support/prometheus.ts"

const root = new URL("../../../../", import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), "utf8")

let gateway: RunningGateway
let emitted: ReadonlySet<string>

beforeAll(async () => {
  gateway = await startGateway({ METRICS_PORT: "0" })
  await waitFor(() => metricsUrlOf(gateway.logs) !== undefined)
  emitted = new Set(Object.keys((await scrape(metricsUrlOf(gateway.logs)!)).metrics))
})
afterAll(() => gateway.close())

/** The first column of the README's metrics table: every metric it documents. */
const documented = () => {
  const section = read("README.md")
    .split(/^### /m)
    .find((part) => part.startsWith("Metrics"))!
  return section
    .split("\n")
    .filter((line) => /^\| `[a-z_]+` \|/.test(line))
    .map((line) => /^\| `([a-z_]+)`/.exec(line)![1]!)
}

describe("the observability documents", () => {
  it("the README's table lists exactly the metrics a gateway exposes", () => {
    expect([...documented()].sort()).toEqual([...emitted].sort())
  })

  it("the Grafana dashboard is valid JSON whose every query names exposed metrics", () => {
    const dashboard = JSON.parse(read("packages/adapter-docker/observability/grafana/dashboards/lunarbit-gateway.json"))
    expect(dashboard.uid).toBe("lunarbit-gateway")
    const panels = dashboard.panels as ReadonlyArray<{ id: number; title: string; targets: Array<{ expr: string }> }>
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length)
    const queried = new Set<string>()
    for (const panel of panels) {
      expect(panel.targets.length).toBeGreaterThan(0)
      for (const { expr } of panel.targets) {
        for (const [name] of expr.matchAll(/\b(lunarbit|process|nodejs)_[a-z_]+/g)) {
          queried.add(name.replace(/_(bucket|sum|count)$/, ""))
        }
      }
    }
    for (const name of queried) expect(emitted).toContain(name)
    // Every exposed family has a panel.
    expect([...emitted].filter((name) => !queried.has(name))).toEqual([])
  })

  const compose = (() => {
    try {
      execFileSync("docker-compose", ["version"], { stdio: "ignore" })
      return undefined
    } catch {
      return "docker-compose is not installed"
    }
  })()
  it.skipIf(compose !== undefined)("compose.yaml with the observability profile is valid for docker-compose", () => {
    const config = execFileSync("docker-compose", ["-f", "compose.yaml", "--profile", "observability", "config"], {
      cwd: root,
      env: { ...process.env, API_KEY_ADMIN: "compose-config-check" },
      encoding: "utf8"
    })
    expect(config).toContain("prom/prometheus")
    expect(config).toContain("grafana/grafana")
    expect(config).toContain("127.0.0.1:9090")
  })
})
