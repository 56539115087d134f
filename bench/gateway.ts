import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { measure, type Server, startServer } from "./support.ts"

const adminKey = "bench-admin-key-0123456789abcdef0123456789"
const gatewayScript = new URL("../packages/adapter-node/src/main.ts", import.meta.url).pathname

export const updatePath =
  "/projects/trackly/channels/stable/update?current_version=1.1.0&platform=windows&architecture=x64"

// The flags `npm start`, the image and the service unit give Node.
export const gatewayFlags = ["--max-semi-space-size=8"]

/**
 * The gateway as `npm start` runs it, with `env` on top of the benchmark's settings, and a key
 * allowed to check updates (returned as its `authorization` header).
 */
export const startGateway = async (env: Record<string, string> = {}, nodeOptions: ReadonlyArray<string> = []) => {
  const stateDir = mkdtempSync(join(tmpdir(), "lunarbit-bench-"))
  const gateway = await startServer(
    gatewayScript,
    {
      API_KEY_ADMIN: adminKey,
      // The benchmark is one client on one address: lift the per-address limits, keep the per-key one.
      RATE_LIMIT_IP_MAX: "1000000000",
      RATE_LIMIT_UNAUTHENTICATED_MAX: "1000000000",
      LUNARBIT_STATE_DIR: stateDir,
      DATABASE_PATH: `${stateDir}/gateway.db`,
      BUILD_VERIFICATION: "false",
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
