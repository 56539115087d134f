import { type ChildProcess, spawn } from "node:child_process"
import autocannon from "autocannon"

export interface Row {
  readonly name: string
  readonly requestsPerSecond: number
  readonly p50: number
  readonly p99: number
  readonly non2xx: number
  readonly errors: number
}

export interface Server {
  readonly url: string
  readonly stop: () => Promise<void>
}

/** Starts `script` with node in its own process and waits for its "Listening on <url>" line. */
export const startServer = (script: string, env: Record<string, string> = {}): Promise<Server> =>
  new Promise((resolve, reject) => {
    // Workspace packages resolve to their TypeScript sources, as in `npm start`.
    const child: ChildProcess = spawn(process.execPath, ["--conditions=@lunarbit/source", script], {
      env: { ...process.env, PORT: "0", HOST: "127.0.0.1", ...env },
      stdio: ["ignore", "pipe", "inherit"]
    })
    let output = ""
    const onData = (chunk: Buffer) => {
      output += chunk
      const match = /Listening on (http:\/\/[^\s"]+)/.exec(output)
      if (match) {
        // Keep draining stdout (access logs) so the server never blocks on a full pipe.
        child.stdout!.off("data", onData)
        child.stdout!.resume()
        resolve({
          url: match[1]!.replace("[::]", "127.0.0.1").replace("0.0.0.0", "127.0.0.1"),
          stop: () =>
            new Promise((done) => {
              child.once("exit", () => done())
              child.kill("SIGTERM")
            })
        })
      }
    }
    child.stdout!.on("data", onData)
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code} before listening:\n${output}`)))
  })

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
  }
): Promise<Row> => {
  const result = await autocannon({
    url: options.url,
    method: (options.method ?? "GET") as "GET",
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: options.body }),
    connections: options.connections ?? 32,
    duration: options.duration ?? Number(process.env.BENCH_SECONDS ?? 5)
  })
  return {
    name,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors
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
