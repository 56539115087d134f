import { execFileSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { measure, type Server, startServer } from "./support.ts"

const adminKey = "bench-admin-key-0123456789abcdef0123456789"
const here = (path: string) => new URL(path, import.meta.url).pathname

/** The gateway's TypeScript sources, as `npm run dev` runs them (and CPU profiles read best). */
export const sourceScript = here("../packages/adapter-node/src/main.ts")

let bundled: string | undefined
/**
 * The gateway as `npm start` and the image run it: bundled by the image's build step
 * (`packages/adapter-docker/bundle.ts`), built once per benchmark process.
 */
export const bundledScript = (): string => {
  if (bundled === undefined) {
    execFileSync(process.execPath, [here("../packages/adapter-docker/bundle.ts")], { stdio: "inherit" })
    bundled = here("../packages/adapter-docker/dist/main.mjs")
  }
  return bundled
}

export const updatePath =
  "/projects/trackly/channels/stable/update?current_version=1.1.0&platform=windows&architecture=x64"

// The flags `npm start`, the image and the service unit give Node (see the README's "Memory").
export const gatewayFlags = ["--max-semi-space-size=8", "--heap-growing-percent=30"]

// glibc's malloc settings of the image and the service unit (see the Dockerfile): the benchmarks
// measure the gateway as it is deployed.
export const gatewayEnv = {
  MALLOC_ARENA_MAX: "2",
  MALLOC_MMAP_THRESHOLD_: "131072",
  MALLOC_TRIM_THRESHOLD_: "131072"
}

/**
 * The gateway as the image and the service unit run it (or `script`), with `env` on top of the benchmark's settings,
 * and a key allowed to check updates (returned as its `authorization` header).
 */
export const startGateway = async (
  env: Record<string, string> = {},
  nodeOptions: ReadonlyArray<string> = [],
  script: string = bundledScript()
) => {
  const stateDir = mkdtempSync(join(tmpdir(), "lunarbit-bench-"))
  const gateway = await startServer(
    script,
    {
      API_KEY_ADMIN: adminKey,
      // The benchmark is one client on one address: lift the per-address limits, keep the per-key one.
      RATE_LIMIT_IP_MAX: "1000000000",
      RATE_LIMIT_UNAUTHENTICATED_MAX: "1000000000",
      LUNARBIT_STATE_DIR: stateDir,
      DATABASE_PATH: `${stateDir}/gateway.db`,
      BUILD_VERIFICATION: "false",
      ...gatewayEnv,
      ...env
    },
    [...gatewayFlags, ...nodeOptions]
  )
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
  return { gateway, auth: { authorization: `Bearer ${key}` } }
}

/** 60,000 requests to `gateway` mixing valid, invalid and unauthenticated calls; `auth` may check updates. */
export const mixedRequests = (gateway: Server, auth: Record<string, string>) =>
  measure("mixed", {
    url: gateway.url,
    amount: 60_000,
    requests: [
      { path: updatePath, headers: auth },
      {
        path: "/projects/trackly/channels/stable/update?current_version=not-a-version&platform=windows",
        headers: auth
      },
      { path: "/projects/trackly" },
      { path: "/projects/nonexistent", headers: auth },
      { path: "/projects", headers: { authorization: "Bearer lbapi_madeup" } }
    ]
  })
