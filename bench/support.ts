import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import autocannon from "autocannon"

/**
 * Servers run on one core and the load generator (this process) on another, when the machine has
 * two and `taskset` exists: the servers then never compete with autocannon for a core, which is what
 * makes runs on a two-core machine comparable from one to the next. A background server (the fake
 * upstream, which stands in for a provider on another machine) runs on the load generator's core
 * instead, and each measurement has the servers' core to the server it targets (see {@link alone}).
 */
const pinned = (() => {
  if (availableParallelism() < 2) return false
  try {
    execFileSync("taskset", ["-a", "-p", "-c", "0", String(process.pid)], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

interface Running {
  readonly pid: number
  /** Serves the measured servers (a fake upstream): never paused. */
  readonly background: boolean
  paused: boolean
}
const running = new Map<string, Running>()
const setPaused = (server: Running, paused: boolean) => {
  if (server.paused === paused) return
  server.paused = paused
  try {
    process.kill(server.pid, paused ? "SIGSTOP" : "SIGCONT")
  } catch {
    // The process has exited.
  }
}

/**
 * Gives the server at `url` its core for a measurement: every other server but a background one is
 * paused (`SIGSTOP`) until it is measured itself or stopped. An idle server left running collects
 * its garbage and runs its timers after its own load, and those pauses landed in the measured
 * server's latencies, or in the load generator's: with the idle gateway running, raw `node:http`'s
 * p99 at a fixed 9,500 req/s was 62 and 270 ms, paused 22 and 47 ms (measured: an idle gateway's
 * full collection added 30–40 ms to the raw proxy's p99).
 */
export const alone = (url: string) => {
  const origin = new URL(url).origin
  for (const [serverOrigin, server] of running) {
    if (!server.background) setPaused(server, serverOrigin !== origin)
  }
}

/**
 * How long each server is loaded before it is measured (`BENCH_WARM_SECONDS`). V8 compiles a hot
 * function with TurboFan after about 3,000 calls, on a helper thread that shares the server's core,
 * and a large inlined function takes 20–50 ms to compile; the gateway has far more hot code than a
 * bare server. Measured under load: the AI path's compiler thread cost 170 µs a request over the
 * first 4,000 requests and settled under 15 µs after about 35,000 (10–15 s); the update check
 * settled after about 45,000 (5 s). Shorter warm-ups measure the compiler, not the server.
 */
export const warmUpSeconds = Number(process.env.BENCH_WARM_SECONDS ?? 15)

export interface Row {
  readonly name: string
  readonly requestsPerSecond: number
  readonly p50: number
  readonly p99: number
  readonly non2xx: number
  readonly errors: number
  /** CPU time (user and system, all threads) the measured server spent per answered request, in µs. */
  readonly cpuMicros?: number | undefined
}

export interface Server {
  readonly url: string
  /** The server's process, for reading its memory. */
  readonly pid: number
  readonly stop: () => Promise<void>
}

/**
 * Starts `script` with node in its own process and waits for its "Listening on <url>" line. A
 * `background` server is one the measured servers use (the fake upstream): it runs on the load
 * generator's core and is never paused.
 */
export const startServer = (
  script: string,
  env: Record<string, string> = {},
  nodeOptions: ReadonlyArray<string> = [],
  options: { readonly background?: boolean } = {}
): Promise<Server> =>
  new Promise((resolve, reject) => {
    // Workspace packages resolve to their TypeScript sources, as in `npm run dev` (a bundle has them inside).
    const command = [process.execPath, "--conditions=@lunarbit/source", ...nodeOptions, script]
    const child: ChildProcess = spawn(
      pinned ? "taskset" : command[0]!,
      pinned ? ["-c", options.background ? "0" : "1", ...command] : command.slice(1),
      {
        env: { ...process.env, PORT: "0", HOST: "127.0.0.1", ...env },
        stdio: ["ignore", "pipe", "inherit"]
      }
    )
    let output = ""
    const onData = (chunk: Buffer) => {
      output += chunk
      const match = /Listening on (http:\/\/[^\s"]+)/.exec(output)
      if (match) {
        // Keep draining stdout (access logs) so the server never blocks on a full pipe.
        child.stdout!.off("data", onData)
        child.stdout!.resume()
        const url = match[1]!.replace("[::]", "127.0.0.1").replace("0.0.0.0", "127.0.0.1")
        const origin = new URL(url).origin
        const server: Running = { pid: child.pid!, background: options.background ?? false, paused: false }
        running.set(origin, server)
        resolve({
          url,
          pid: child.pid!,
          stop: () =>
            new Promise((done) => {
              running.delete(origin)
              // A paused process only acts on SIGTERM once it runs again.
              setPaused(server, false)
              child.once("exit", () => done())
              child.kill("SIGTERM")
            })
        })
      }
    }
    child.stdout!.on("data", onData)
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code} before listening:\n${output}`)))
  })

/**
 * Gives the measured server a quarter of a second to see its clients leave before anything pauses
 * it. autocannon returns as its duration ends, with requests still in flight; a server paused
 * (`alone`) before it sees its clients close holds those requests frozen, and when it runs again
 * their timers have all expired. The gateway then took them for upstream timeouts, opened its
 * circuit to the provider and answered 503 to every request of the next 30 s. (`paced` waits for
 * every answer itself.)
 */
const settled = () => new Promise((resolve) => setTimeout(resolve, 250))

/** Runs autocannon against one URL and keeps the figures the report needs. */
export const measure = async (
  name: string,
  options: {
    url: string
    headers?: Record<string, string>
    method?: string
    body?: string
    connections?: number
    duration?: number
    /** Requests per second across all connections: a fixed-rate (latency) run rather than saturation. */
    overallRate?: number
    /** Stop after this many requests instead of after `duration`. */
    amount?: number
    /** Requests cycled through by every connection, instead of one request to `url`. */
    requests?: ReadonlyArray<{ readonly path: string; readonly headers?: Record<string, string> }>
    /** The measured server's process, to report its CPU time per request (`cpuMicros`). */
    cpuOf?: number
  }
): Promise<Row> => {
  alone(options.url)
  const cpuBefore = options.cpuOf === undefined ? 0 : cpuMicros(options.cpuOf)
  const result = await autocannon({
    url: options.url,
    method: (options.method ?? "GET") as "GET",
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: options.body }),
    connections: options.connections ?? 32,
    ...(options.amount === undefined
      ? { duration: options.duration ?? Number(process.env.BENCH_SECONDS ?? 5) }
      : { amount: options.amount }),
    ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
    ...(options.requests === undefined ? {} : { requests: options.requests.map((r) => ({ method: "GET", ...r })) })
  } as autocannon.Options)
  const cpuAfter = options.cpuOf === undefined ? 0 : cpuMicros(options.cpuOf)
  await settled()
  return {
    name,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    cpuMicros:
      options.cpuOf === undefined || result.requests.total === 0
        ? undefined
        : (cpuAfter - cpuBefore) / result.requests.total
  }
}

/** Prints the rows as a table, each with its ratio to `baseline`. */
export const report = (title: string, rows: ReadonlyArray<Row>, baseline: Row) => {
  console.log(`\n${title}`)
  console.log("| case | req/s | p50 ms | p99 ms | ratio to baseline | non-2xx | errors |")
  console.log("|---|---:|---:|---:|---:|---:|---:|")
  for (const row of rows) {
    const ratio = row.requestsPerSecond / baseline.requestsPerSecond
    console.log(
      `| ${row.name} | ${Math.round(row.requestsPerSecond)} | ${row.p50} | ${row.p99} | ${ratio.toFixed(2)}x | ${row.non2xx} | ${row.errors} |`
    )
  }
}

// A figure of /proc/<pid>/status (Linux), in MiB.
const statusMiB = (pid: number, field: "VmRSS" | "VmHWM"): number => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  return Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024)
}

/** The resident set size of process `pid`, in MiB. */
export const rssMiB = (pid: number): number => statusMiB(pid, "VmRSS")

/** The peak resident set size of process `pid` so far, in MiB. */
export const peakMiB = (pid: number): number => statusMiB(pid, "VmHWM")

/** The median of each figure over several rounds of the same case. */
export const median = (rounds: ReadonlyArray<Row>): Row => {
  const middle = <K extends keyof Row>(key: K) => {
    const sorted = rounds.map((row) => row[key] as number).sort((a, b) => a - b)
    return sorted[Math.floor(sorted.length / 2)]!
  }
  const cpu = rounds.every((row) => row.cpuMicros !== undefined) ? middle("cpuMicros") : undefined
  return {
    name: rounds[0]!.name,
    requestsPerSecond: middle("requestsPerSecond"),
    p50: middle("p50"),
    p99: middle("p99"),
    non2xx: middle("non2xx"),
    errors: middle("errors"),
    cpuMicros: cpu
  }
}

/** The CPU time process `pid` has used so far (user and system, all its threads), in µs (Linux). */
export const cpuMicros = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  // utime and stime, in clock ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * 10_000
}
