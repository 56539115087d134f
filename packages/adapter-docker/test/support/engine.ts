import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process"
import { once } from "node:events"
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"

/**
 * A private Docker engine for the container tests: Debian's `dockerd`, started in a temporary
 * folder with its own socket, its own bridge and its own address pool, so that it touches no other
 * engine on the machine and several test runs can share one machine. `stop()` ends it by its PID and
 * removes its bridge and folder. See design/CONTAINERS.md for why not a registry: none is reachable.
 */

const run = promisify(execFile)
const repository = new URL("../../../../", import.meta.url).pathname
const ensureScript = join(repository, "scripts/ensure-docker.sh")
/** Debian's client, the one matching its engine (another `docker` on PATH may be newer than it speaks). */
const dockerClient = "/usr/bin/docker"

/** Why the container tests cannot run here, or undefined when they can (installing what is missing). */
export const unavailableReason = (): string | undefined => {
  if (process.platform !== "linux") return `they need Linux, this is ${process.platform}`
  if (process.getuid?.() !== 0) return "they need root (a private Docker engine, debootstrap)"
  try {
    execFileSync("bash", [ensureScript], { stdio: "pipe", timeout: 900_000 })
  } catch (error) {
    const output = [(error as { stderr?: Buffer }).stderr, (error as { stdout?: Buffer }).stdout].join("").trim()
    return output || String(error)
  }
  return undefined
}

export interface Engine {
  /** Runs the Docker client against this engine; resolves with its standard output. */
  readonly docker: (args: ReadonlyArray<string>, options?: CommandOptions) => Promise<string>
  /** Runs docker-compose against this engine. */
  readonly compose: (args: ReadonlyArray<string>, options?: CommandOptions) => Promise<string>
  /** The environment a command needs to reach this engine. */
  readonly env: Record<string, string>
  readonly stop: () => Promise<void>
}

export interface CommandOptions {
  readonly env?: Record<string, string> | undefined
  readonly cwd?: string | undefined
  /** Resolve with the command's standard error too, after its standard output. */
  readonly withStderr?: boolean | undefined
}

const random = (bytes: number) => Math.floor(Math.random() * 256 ** bytes)

const waitForSocket = async (socket: string, daemon: ChildProcess, log: string) => {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (daemon.exitCode !== null) break
    if (existsSync(socket)) {
      const ok = await run(dockerClient, ["-H", `unix://${socket}`, "version"]).then(
        () => true,
        () => false
      )
      if (ok) return
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`dockerd did not start:\n${existsSync(log) ? readFileSync(log, "utf8").slice(-3000) : ""}`)
}

export const startEngine = async (): Promise<Engine> => {
  const dir = mkdtempSync(join(tmpdir(), "lunarbit-docker-"))
  const socket = join(dir, "docker.sock")
  const log = join(dir, "dockerd.log")
  // A bridge and address ranges of its own: another engine on the machine keeps docker0 and its pools.
  const bridge = `lbd${random(3).toString(16).padStart(6, "0")}`
  const octet = 16 + (random(1) % 200)
  execFileSync("ip", ["link", "add", "name", bridge, "type", "bridge"])
  execFileSync("ip", ["addr", "add", `10.${octet}.255.1/24`, "dev", bridge])
  execFileSync("ip", ["link", "set", bridge, "up"])
  const output = openSync(log, "a")
  const daemon = spawn(
    "dockerd",
    [
      `--data-root=${join(dir, "root")}`,
      `--exec-root=${join(dir, "exec")}`,
      `--pidfile=${join(dir, "docker.pid")}`,
      `--host=unix://${socket}`,
      `--bridge=${bridge}`,
      `--default-address-pool=base=10.${octet}.0.0/17,size=24`
    ],
    { stdio: ["ignore", output, output] }
  )
  closeSync(output)
  const env = { DOCKER_HOST: `unix://${socket}` }
  const stop = async () => {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      // Containers killed at once: the engine would give each 10 s to stop by itself.
      const containers = await run(dockerClient, ["-H", env.DOCKER_HOST, "ps", "-aq"]).then(
        ({ stdout }) => stdout.split("\n").filter((id) => id !== ""),
        () => []
      )
      if (containers.length > 0)
        await run(dockerClient, ["-H", env.DOCKER_HOST, "rm", "-f", ...containers]).catch(() => {})
      const exited = once(daemon, "exit")
      daemon.kill("SIGTERM")
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))])
      if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill("SIGKILL")
    }
    try {
      execFileSync("ip", ["link", "delete", bridge], { stdio: "ignore" })
    } catch {}
    rmSync(dir, { recursive: true, force: true })
  }
  process.once("exit", () => {
    daemon.kill("SIGKILL")
  })
  try {
    await waitForSocket(socket, daemon, log)
  } catch (error) {
    await stop()
    throw error
  }
  const command =
    (file: string) =>
    async (args: ReadonlyArray<string>, options: CommandOptions = {}) => {
      const result = await run(file, [...args], {
        env: { ...process.env, ...env, ...options.env },
        cwd: options.cwd ?? repository,
        maxBuffer: 64 * 1024 * 1024
      }).catch((error: { stderr?: string; message: string }) => {
        throw new Error(`${file} ${args.join(" ")} failed: ${error.stderr || error.message}`)
      })
      return (options.withStderr ? result.stdout + result.stderr : result.stdout).trim()
    }
  return { docker: command(dockerClient), compose: command("docker-compose"), env, stop }
}
