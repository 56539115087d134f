import { spawn } from "node:child_process"
import { once } from "node:events"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const main = new URL("../../src/main.ts", import.meta.url).pathname

export const waitFor = async (predicate: () => Promise<boolean> | boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await predicate()) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error("condition not met in time")
}

/**
 * Runs `lunarbit-gateway` in its own process on a free loopback port and waits until it listens;
 * `nodeOptions` go to Node before the script, which is the sources' `main.ts` unless `script` (a
 * bundle's `main.mjs`) is given.
 */
export const startProcess = async (
  env: Record<string, string>,
  nodeOptions: ReadonlyArray<string> = [],
  script = main
) => {
  // The sources run directly, so the workspace packages must resolve to theirs too.
  const child = spawn(process.execPath, ["--conditions=@lunarbit/source", ...nodeOptions, script], {
    env: { PATH: process.env.PATH ?? "", PORT: "0", HOST: "127.0.0.1", BUILD_VERIFICATION: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout.on("data", (chunk) => (output += chunk))
  child.stderr.on("data", (chunk) => (output += chunk))
  await waitFor(() => /Listening on http:\/\/[^:]+:\d+/.test(output) || child.exitCode !== null, 30_000)
  const port = Number(/Listening on http:\/\/.*:(\d+)/.exec(output)?.[1])
  return {
    child,
    port,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    output: () => output,
    /** SIGTERM, then wait for the process to exit. */
    stop: async () => {
      if (child.exitCode !== null) return
      const exited = once(child, "exit")
      child.kill("SIGTERM")
      await exited
    }
  }
}

export type GatewayProcess = Awaited<ReturnType<typeof startProcess>>

/**
 * `lunarbit-gateway` with a state directory of its own, run under `nodeOptions` for `use`; then
 * stopped and its directory removed.
 */
export const withGatewayProcess = async (
  nodeOptions: ReadonlyArray<string>,
  use: (gateway: GatewayProcess) => Promise<void>
) => {
  const dir = mkdtempSync(join(tmpdir(), "lunarbit-process-"))
  const gateway = await startProcess(
    {
      LUNARBIT_STATE_DIR: dir,
      DATABASE_PATH: join(dir, "gateway.db"),
      API_KEY_ADMIN: "process-admin-key-0123456789abcdef0123"
    },
    nodeOptions
  )
  try {
    await use(gateway)
  } finally {
    await gateway.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
