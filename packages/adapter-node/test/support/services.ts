import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { once } from "node:events"
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { connect, createServer } from "node:net"
import { tmpdir } from "node:os"
import { delimiter, join } from "node:path"
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { inject } from "vitest"
import type { TestProject } from "vitest/node"

/**
 * Real PostgreSQL and Redis servers for the store tests. `DATABASE_URL` / `REDIS_URL`, when set, name
 * servers to use (CI services, a developer's own); otherwise the servers this file's `setup` started
 * for the run when it is vitest's `globalSetup`; otherwise each test file starts private throwaway
 * servers on free loopback ports and stops them when done. Every test file gets its own database and
 * its own Redis key prefix, so files running in parallel never see each other's data.
 */

const ensureScript = new URL("../../../../scripts/ensure-test-servers.sh", import.meta.url).pathname
const randomSuffix = () => `${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
const isRoot = () => process.getuid?.() === 0

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** `name` on PATH, else in the newest `/usr/lib/postgresql/<version>/bin` (Debian keeps them there). */
const findBinary = (name: string): string | undefined => {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir !== "" && executable(join(dir, name))) return join(dir, name)
  }
  const versions = existsSync("/usr/lib/postgresql") ? readdirSync("/usr/lib/postgresql") : []
  for (const version of versions.sort((a, b) => Number(b) - Number(a))) {
    const path = join("/usr/lib/postgresql", version, "bin", name)
    if (executable(path)) return path
  }
  return undefined
}

/** Finds the binaries, installing the Debian packages first when allowed (see the script). */
const requireBinaries = <const Names extends ReadonlyArray<string>>(names: Names): Record<Names[number], string> => {
  if (names.some((name) => findBinary(name) === undefined)) {
    try {
      execFileSync("bash", [ensureScript], { stdio: "pipe", timeout: 600_000 })
    } catch (error) {
      const output = [(error as { stderr?: Buffer }).stderr, (error as { stdout?: Buffer }).stdout].join("").trim()
      throw new Error(`Cannot start the test servers (${names.join(", ")} missing): ${output || error}`)
    }
  }
  return Object.fromEntries(
    names.map((name) => {
      const path = findBinary(name)
      if (path === undefined) throw new Error(`${name} not found on PATH or under /usr/lib/postgresql/*/bin`)
      return [name, path]
    })
  ) as Record<Names[number], string>
}

const freePort = async (): Promise<number> => {
  const server = createServer()
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  const address = server.address()
  server.close()
  if (address === null || typeof address === "string") throw new Error("no TCP port")
  return address.port
}

const waitUntil = async (what: string, ready: () => Promise<boolean>, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`${what} did not become ready in ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

// Servers this process started are stopped even when a test run is cut short.
const onExit = new Set<() => void>()
process.once("exit", () => {
  for (const stop of onExit) stop()
})

export interface TestPostgres {
  /** A database of its own, migrations not applied: `postgres://...@127.0.0.1:<port>/<db>`. */
  readonly url: string
  readonly close: () => Promise<void>
}

const runSql = (url: string, statement: string) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.flatMap(Effect.service(SqlClient.SqlClient), (sql) => sql.unsafe(statement)).pipe(
        Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 }))
      )
    )
  )

/** Starts PostgreSQL as the `postgres` user when running as root, since it refuses to run as root. */
const startPostgres = async (): Promise<{ url: string; stop: () => void }> => {
  const bin = requireBinaries(["initdb", "pg_ctl", "postgres"])
  const asServerUser = (command: string, args: ReadonlyArray<string>): [string, Array<string>] =>
    isRoot() ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, [...args]]
  const base = mkdtempSync(join(tmpdir(), "lunarbit-pg-"))
  if (isRoot()) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString())
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString())
    chownSync(base, uid, gid)
  }
  const data = join(base, "data")
  const port = await freePort()
  const run = (command: string, args: ReadonlyArray<string>) => {
    const [file, argv] = asServerUser(command, args)
    execFileSync(file, argv, { stdio: "pipe", cwd: base })
  }
  // Durability is pointless for a throwaway server; without it start and writes are much faster.
  const settings = `-p ${port} -k ${base} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`
  try {
    run(bin.initdb, ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
    run(bin.pg_ctl, ["start", "-w", "-t", "30", "-D", data, "-l", join(base, "server.log"), "-o", settings])
  } catch (error) {
    rmSync(base, { recursive: true, force: true })
    throw error
  }
  const stop = () => {
    onExit.delete(stop)
    try {
      run(bin.pg_ctl, ["stop", "-D", data, "-m", "immediate", "-w"])
    } finally {
      rmSync(base, { recursive: true, force: true })
    }
  }
  onExit.add(stop)
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop }
}

/** The server tests share: `DATABASE_URL`/`REDIS_URL`, else one the global setup started, if any. */
const sharedServer = (variable: "DATABASE_URL" | "REDIS_URL", provided: "lunarbitPostgresUrl" | "lunarbitRedisUrl") =>
  process.env[variable] ?? inject(provided)

/**
 * A fresh, empty database for one test file, on the shared server (see {@link sharedServer}) or on
 * a private one started for this file. `close` drops the database, or stops the private server.
 */
export const postgresDatabase = async (): Promise<TestPostgres> => {
  const shared = sharedServer("DATABASE_URL", "lunarbitPostgresUrl")
  const server = shared === undefined ? await startPostgres() : { url: shared, stop: () => {} }
  const name = `lunarbit_test_${randomSuffix()}`
  try {
    await runSql(server.url, `CREATE DATABASE ${name}`)
  } catch (error) {
    server.stop()
    throw error
  }
  const url = new URL(server.url)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    close: async () => {
      if (shared === undefined) return server.stop()
      await runSql(server.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    }
  }
}

export interface TestRedis {
  readonly url: string
  /** Prefix every key with this, so files sharing a server stay apart. */
  readonly prefix: string
  readonly close: () => Promise<void>
}

const ping = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1")
    socket.setTimeout(1_000)
    socket.once("connect", () => socket.write("PING\r\n"))
    socket.once("data", (data) => {
      socket.destroy()
      resolve(data.toString().startsWith("+PONG"))
    })
    for (const event of ["error", "timeout"]) {
      socket.once(event, () => {
        socket.destroy()
        resolve(false)
      })
    }
  })

/** Starts a Redis that keeps nothing on disk. */
const startRedis = async (): Promise<{ url: string; stop: () => Promise<void> }> => {
  const bin = requireBinaries(["redis-server"])
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), "lunarbit-redis-"))
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir]
  const child: ChildProcess = spawn(bin["redis-server"], args, { stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  child.stdout?.on("data", (chunk) => (output += chunk))
  child.stderr?.on("data", (chunk) => (output += chunk))
  const stopNow = () => {
    onExit.delete(stopNow)
    child.kill("SIGKILL")
    rmSync(dir, { recursive: true, force: true })
  }
  onExit.add(stopNow)
  try {
    await waitUntil("redis-server", async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited: ${output}`)
      return ping(port)
    })
  } catch (error) {
    stopNow()
    throw error
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      onExit.delete(stopNow)
      if (child.exitCode === null) {
        child.kill("SIGTERM")
        await once(child, "exit")
      }
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** Redis for one test file: the shared server (see {@link sharedServer}), else a private one. */
export const redisServer = async (): Promise<TestRedis> => {
  const prefix = `lunarbit-test:${randomSuffix()}:`
  const shared = sharedServer("REDIS_URL", "lunarbitRedisUrl")
  if (shared !== undefined) return { url: shared, prefix, close: async () => {} }
  const server = await startRedis()
  return { url: server.url, prefix, close: server.stop }
}

declare module "vitest" {
  export interface ProvidedContext {
    lunarbitPostgresUrl?: string | undefined
    lunarbitRedisUrl?: string | undefined
  }
}

/**
 * Optional vitest `globalSetup`: one private PostgreSQL and one Redis for the whole run instead of
 * one per test file (neither when `DATABASE_URL`/`REDIS_URL` name servers). When a server cannot
 * start, the run goes on: the files that need it start their own and report why that fails.
 */
export default async function setup(project: TestProject) {
  const stops: Array<() => unknown> = []
  if (process.env.DATABASE_URL === undefined) {
    try {
      const postgres = await startPostgres()
      project.provide("lunarbitPostgresUrl", postgres.url)
      stops.push(postgres.stop)
    } catch (error) {
      console.warn(`No shared PostgreSQL for this run: ${(error as Error).message}`)
    }
  }
  if (process.env.REDIS_URL === undefined) {
    try {
      const redis = await startRedis()
      project.provide("lunarbitRedisUrl", redis.url)
      stops.push(redis.stop)
    } catch (error) {
      console.warn(`No shared Redis for this run: ${(error as Error).message}`)
    }
  }
  return async () => {
    for (const stop of stops) await stop()
  }
}
