import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { once } from "node:events"
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { connect, createServer } from "node:net"
import { tmpdir } from "node:os"
import { delimiter, join } from "node:path"
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { Redis } from "ioredis"

/**
 * Real PostgreSQL and Redis servers for the store tests. `DATABASE_URL` / `REDIS_URL`, when set, name
 * servers to use (CI services, a developer's own); otherwise each test file that needs one starts a
 * private throwaway server on a free loopback port and stops it when done. Per file rather than per
 * run: a run without store tests starts nothing, and files start theirs in parallel (measured no
 * slower than one server started by a global setup). Every test file gets its own database and
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
const startPostgres = async (): Promise<{
  url: string
  stop: () => void
  pause: () => void
  resume: () => void
}> => {
  const bin = requireBinaries(["initdb", "pg_ctl", "postgres"])
  const asServerUser = (command: string, args: ReadonlyArray<string>): [string, Array<string>] =>
    isRoot() ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, [...args]]
  const base = mkdtempSync(join(tmpdir(), "lunarbit-pg-"))
  if (isRoot()) {
    try {
      const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { stdio: "pipe" }).toString())
      chownSync(base, id("-u"), id("-g"))
    } catch {
      rmSync(base, { recursive: true, force: true })
      throw new Error("PostgreSQL refuses to run as root and there is no `postgres` user to run it as")
    }
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
    const log = existsSync(join(base, "server.log")) ? readFileSync(join(base, "server.log"), "utf8") : ""
    rmSync(base, { recursive: true, force: true })
    throw new Error(`Could not start PostgreSQL: ${(error as Error).message}\n${log}`)
  }
  let running = true
  // `fast` ends every connection like a crash would, but writes what was committed: with
  // synchronous_commit off, an immediate stop could lose the last commits, which the tests do not mean to test.
  const pause = () => {
    if (running) run(bin.pg_ctl, ["stop", "-D", data, "-m", "fast", "-w"])
    running = false
  }
  const resume = () => {
    if (!running)
      run(bin.pg_ctl, ["start", "-w", "-t", "30", "-D", data, "-l", join(base, "server.log"), "-o", settings])
    running = true
  }
  const stop = () => {
    onExit.delete(stop)
    try {
      if (running) run(bin.pg_ctl, ["stop", "-D", data, "-m", "immediate", "-w"])
    } finally {
      rmSync(base, { recursive: true, force: true })
    }
  }
  onExit.add(stop)
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop, pause, resume }
}

/**
 * A fresh, empty database for one test file, on `DATABASE_URL`'s server when set, else on a private
 * server started for this file. `close` drops the database, or stops the private server.
 */
export const postgresDatabase = async (): Promise<TestPostgres> => {
  const shared = process.env.DATABASE_URL
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

/** Starts a Redis that keeps nothing on disk; `pause` kills it and `resume` starts it again on its port. */
const startRedis = async (): Promise<{
  url: string
  stop: () => Promise<void>
  pause: () => Promise<void>
  resume: () => Promise<void>
}> => {
  const bin = requireBinaries(["redis-server"])
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), "lunarbit-redis-"))
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir]
  let child: ChildProcess
  const stopNow = () => {
    onExit.delete(stopNow)
    child.kill("SIGKILL")
    rmSync(dir, { recursive: true, force: true })
  }
  const spawnServer = async () => {
    child = spawn(bin["redis-server"], args, { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout?.on("data", (chunk) => (output += chunk))
    child.stderr?.on("data", (chunk) => (output += chunk))
    await waitUntil("redis-server", async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited: ${output}`)
      return ping(port)
    })
  }
  const halt = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL")
      await once(child, "exit")
    }
  }
  onExit.add(stopNow)
  try {
    await spawnServer()
  } catch (error) {
    stopNow()
    throw error
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      onExit.delete(stopNow)
      await halt()
      rmSync(dir, { recursive: true, force: true })
    },
    pause: halt,
    resume: spawnServer
  }
}

/** Removes a test file's keys from a shared server; they would expire, but only after their windows. */
const deleteKeys = async (url: string, prefix: string) => {
  const client = new Redis(url)
  try {
    for await (const keys of client.scanStream({ match: `${prefix}*`, count: 500 })) {
      if ((keys as Array<string>).length > 0) await client.del(...(keys as Array<string>))
    }
  } finally {
    await client.quit()
  }
}

/** Redis for one test file: `REDIS_URL`'s server when set, else a private one. */
export const redisServer = async (): Promise<TestRedis> => {
  const prefix = `lunarbit-test:${randomSuffix()}:`
  const shared = process.env.REDIS_URL
  if (shared !== undefined) return { url: shared, prefix, close: () => deleteKeys(shared, prefix) }
  const server = await startRedis()
  return { url: server.url, prefix, close: server.stop }
}

/** A private server this test file may stop and start again, to see what an outage does. */
export interface InterruptibleServer {
  readonly url: string
  /** Stops the server abruptly, as a crash or a network partition would. */
  readonly pause: () => Promise<void>
  /** Starts it again on the same port, with the data it had (PostgreSQL) or empty (Redis). */
  readonly resume: () => Promise<void>
  readonly close: () => Promise<void>
}

/** A private PostgreSQL, never `DATABASE_URL`'s: a shared server must not be stopped. */
export const interruptiblePostgres = async (): Promise<InterruptibleServer> => {
  const server = await startPostgres()
  return {
    url: server.url,
    pause: async () => server.pause(),
    resume: async () => server.resume(),
    close: async () => server.stop()
  }
}

/** A private Redis, never `REDIS_URL`'s. */
export const interruptibleRedis = async (): Promise<InterruptibleServer> => {
  const server = await startRedis()
  return { url: server.url, pause: server.pause, resume: server.resume, close: server.stop }
}
