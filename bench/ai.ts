/**
 * The AI proxy path: `POST /v1/chat/completions`, streamed and not, through the gateway (key
 * authentication, the ModelRouter, the body forwarded over undici's pool, the stream read for its
 * usage) against a raw `node:http` reverse proxy to the same local upstream, in the same run, 32
 * connections each; then both at a fixed rate of half the raw proxy's saturation, sent open-loop
 * (`paced`), for the latency the gateway adds without queueing; and the gateway's peak RSS. Each
 * figure is the median of interleaved rounds (`BENCH_ROUNDS`, 3), as the release API's are: one
 * run of a few seconds on a shared machine moves by a third from one try to the next. Each server
 * is warmed first in each mode (`BENCH_AI_WARM_SECONDS`), and each is measured alone: the other
 * server paused, the fake upstream (a provider on another machine) on the load generator's core
 * (`support.ts` says why).
 * Targets: >= 0.8x the raw proxy's req/s; < 2 ms added p50 and < 5 ms added p99 at the fixed rate;
 * RSS < 150 MiB.
 *
 * `bench/run.ts` calls `runAiBench` and `reportAi`; `node --conditions=@lunarbit/source bench/ai.ts`
 * runs it alone. This file is also the script of the upstream and proxy processes (chosen by
 * AI_BENCH_ROLE), so each server has its own process and autocannon keeps this one.
 */
import { readFileSync } from "node:fs"
import { Agent, createServer, request as httpRequest } from "node:http"
import { bundledScript, gatewayEnv, gatewayFlags } from "./gateway.ts"
import { paced } from "./paced.ts"
import { measure, median, type Row, startServer } from "./support.ts"

/** The figures of one AI bench run. */
export interface AiBench {
  /**
   * At saturation, 32 connections: raw proxy then gateway, non-streamed then streamed, each with
   * the CPU time its server spent per request, which moves less than req/s when the machine's
   * speed changes between measurements.
   */
  readonly saturation: ReadonlyArray<Row>
  /** The same pairs at a fixed rate of half the raw proxy's saturation. */
  readonly fixedRate: ReadonlyArray<Row>
  /** The gateway's peak resident memory, in MiB (Linux only). */
  readonly peakRssMiB: number | undefined
}

const peakRssMiB = (pid: number): number | undefined => {
  try {
    const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]
    return kib === undefined ? undefined : Number(kib) / 1024
  } catch {
    return undefined
  }
}

const self = new URL(import.meta.url).pathname
const adminKey = "bench-admin-key-0123456789abcdef0123456789"
const model = "bench-model"
const seconds = Number(process.env.BENCH_SECONDS ?? 4)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
/**
 * How long each server is loaded in each mode before the rounds (`BENCH_AI_WARM_SECONDS`). The AI
 * path has more code to compile than the release API: after 8 s a mode, the gateway's CPU per
 * whole answer still fell over the three rounds that followed (358, 334 and 244 µs, raw proxy
 * 236–278); after 30 s a mode it was 254, 259 and 252 µs from the first round on.
 */
const warmUpSeconds = Number(process.env.BENCH_AI_WARM_SECONDS ?? 30)

// ---- the upstream: OpenAI's wire, a fixed answer, 16 chunks when streamed ----

const created = 1_700_000_000
const pieces = Array.from({ length: 16 }, (_, i) => `token${i} `)
const completion = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created,
  model,
  choices: [
    { index: 0, message: { role: "assistant", content: pieces.join("") }, logprobs: null, finish_reason: "stop" }
  ],
  usage: { prompt_tokens: 12, completion_tokens: 16, total_tokens: 28 }
})
const chunk = (choices: unknown, usage: unknown = null) =>
  `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created, model, choices, usage })}\n\n`
const streamed =
  chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]) +
  pieces.map((text) => chunk([{ index: 0, delta: { content: text }, finish_reason: null }])).join("") +
  chunk([{ index: 0, delta: {}, finish_reason: "stop" }]) +
  chunk([], { prompt_tokens: 12, completion_tokens: 16, total_tokens: 28 }) +
  "data: [DONE]\n\n"
const models = JSON.stringify({ object: "list", data: [{ id: model, object: "model", created, owned_by: "bench" }] })

const serveUpstream = () =>
  createServer((request, response) => {
    let body = ""
    request.on("data", (data) => {
      body += data
    })
    request.on("end", () => {
      if (request.url?.startsWith("/v1/models")) {
        response.writeHead(200, { "content-type": "application/json" })
        response.end(models)
      } else if (body.includes('"stream":true')) {
        response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
        response.end(streamed)
      } else {
        response.writeHead(200, { "content-type": "application/json" })
        response.end(completion)
      }
    })
  })

// ---- the baseline: a reverse proxy that pipes requests and responses through, nothing else ----

const serveProxy = (upstream: URL) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 })
  return createServer((request, response) => {
    const outgoing = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: request.url,
        method: request.method,
        headers: { ...request.headers, host: upstream.host },
        agent
      },
      (incoming) => {
        response.writeHead(incoming.statusCode ?? 502, incoming.headers)
        incoming.pipe(response)
      }
    )
    outgoing.on("error", () => {
      response.writeHead(502)
      response.end()
    })
    request.pipe(outgoing)
  })
}

const listen = (server: ReturnType<typeof createServer>) =>
  server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
    const address = server.address()
    console.log(`Listening on http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`)
  })

// ---- the benchmark ----

const body = (stream: boolean) =>
  JSON.stringify({
    model,
    messages: [{ role: "user", content: "Summarise the release notes of version 1.2.0 in one line." }],
    max_tokens: 64,
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {})
  })

/** Runs the AI cases, raw proxy then gateway for each, at saturation and then at a fixed rate. */
export const runAiBench = async (): Promise<AiBench> => {
  const upstream = await startServer(self, { AI_BENCH_ROLE: "upstream" }, [], { background: true })
  const proxy = await startServer(self, { AI_BENCH_ROLE: "proxy", AI_BENCH_UPSTREAM: upstream.url })
  const gateway = await startServer(
    bundledScript(),
    {
      ...gatewayEnv,
      API_KEY_ADMIN: adminKey,
      OPENAI_ENABLED: "true",
      OPENAI_API_KEY: "sk-bench-upstream",
      OPENAI_BASE_URL: `${upstream.url}/v1`,
      OPENAI_MODEL: model,
      // One client on one address, one key: lift the limits so the proxy path is what is measured.
      RATE_LIMIT_IP_MAX: "1000000000",
      RATE_LIMIT_AI_MAX: "1000000000",
      RATE_LIMIT_UNAUTHENTICATED_MAX: "1000000000",
      LUNARBIT_STATE_DIR: `${process.env.TMPDIR ?? "/tmp"}/lunarbit-bench-ai-${process.pid}`,
      DATABASE_PATH: `${process.env.TMPDIR ?? "/tmp"}/lunarbit-bench-ai-${process.pid}/gateway.db`
    },
    gatewayFlags
  )
  try {
    const created = await fetch(`${gateway.url}/admin/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        name: `bench-ai-${Date.now()}`,
        permissions: { canUseAI: true },
        rateLimit: 10_000_000
      })
    })
    if (created.status !== 201 && created.status !== 200) {
      throw new Error(`Creating the bench key failed: ${created.status} ${await created.text()}`)
    }
    const key = ((await created.json()) as { key: string }).key
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" }
    const post = (url: string, stream: boolean, options: { duration?: number } = {}) => ({
      url: `${url}/v1/chat/completions`,
      method: "POST",
      headers,
      body: body(stream),
      ...options
    })
    // A benchmark of errors measures nothing: check both paths answer before timing them.
    for (const target of [proxy.url, gateway.url]) {
      const probe = await fetch(`${target}/v1/chat/completions`, { method: "POST", headers, body: body(false) })
      if (probe.status !== 200) throw new Error(`${target} answered ${probe.status}: ${await probe.text()}`)
    }
    for (const target of [proxy.url, gateway.url]) {
      for (const stream of [false, true]) await measure("warm-up", post(target, stream, { duration: warmUpSeconds }))
    }
    const modes = [
      { stream: false, label: "chat completion" },
      { stream: true, label: "streamed chat completion" }
    ] as const
    type Target = "raw proxy" | "gateway"
    type Mode = (typeof modes)[number]
    // Each round measures every mode, the raw proxy then the gateway; each figure is the median of
    // its rounds. Rows come in pairs per mode, as the tables print them: `2 * i` raw, `2 * i + 1` gateway.
    const interleaved = async (measureOne: (target: Target, mode: Mode, i: number) => Promise<Row>) => {
      const measured = modes.flatMap(() => [[] as Array<Row>, [] as Array<Row>])
      for (let round = 0; round < rounds; round++) {
        for (const [i, mode] of modes.entries()) {
          measured[2 * i]!.push(await measureOne("raw proxy", mode, i))
          measured[2 * i + 1]!.push(await measureOne("gateway", mode, i))
        }
      }
      return measured.map(median)
    }
    const urlOf = (target: Target) => (target === "raw proxy" ? proxy.url : gateway.url)
    const saturation = await interleaved((target, { stream, label }) =>
      measure(`${target}, ${label}`, {
        ...post(urlOf(target), stream),
        duration: seconds,
        cpuOf: target === "raw proxy" ? proxy.pid : gateway.pid
      })
    )
    const fixedRate = await interleaved((target, { stream, label }, i) => {
      // Half of the raw proxy's median saturation in this mode.
      const rate = Math.max(1, Math.round(saturation[2 * i]!.requestsPerSecond / 2))
      return paced(`${target}, ${label}, ${rate} req/s`, {
        ...post(urlOf(target), stream),
        method: "POST",
        rate,
        seconds
      })
    })
    return { saturation, fixedRate, peakRssMiB: peakRssMiB(gateway.pid) }
  } finally {
    await Promise.all([gateway.stop(), proxy.stop(), upstream.stop()])
  }
}

const added = (ms: number) => `${Math.round(ms * 10) / 10}`

const table = (rows: ReadonlyArray<Row>) => {
  console.log(
    "| case | req/s | CPU µs/req | p50 ms | p99 ms | vs raw proxy | added p50 ms | added p99 ms | non-2xx | errors |"
  )
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
  for (let i = 0; i < rows.length; i += 2) {
    const raw = rows[i]!
    const gateway = rows[i + 1]!
    const ratio = gateway.requestsPerSecond / raw.requestsPerSecond
    for (const [row, versus, p50, p99] of [
      [raw, "1.00x", "-", "-"],
      [gateway, `${ratio.toFixed(2)}x`, added(gateway.p50 - raw.p50), added(gateway.p99 - raw.p99)]
    ] as const) {
      console.log(
        `| ${row.name} | ${Math.round(row.requestsPerSecond)} | ${row.cpuMicros?.toFixed(0) ?? "-"} | ${row.p50} | ${row.p99} | ${versus} | ${p50} | ${p99} | ${row.non2xx} | ${row.errors} |`
      )
    }
  }
}

/** Prints both tables, the gateway's peak RSS, and whether each target was met. */
export const reportAi = (bench: AiBench) => {
  console.log(
    `\nAI proxy path at saturation (32 connections): gateway vs raw node:http reverse proxy, same upstream; medians of ${rounds} interleaved rounds of ${seconds} s`
  )
  table(bench.saturation)
  console.log("\nThe same at a fixed rate, half the raw proxy's saturation: the latency the gateway adds")
  table(bench.fixedRate)
  const rss = bench.peakRssMiB
  console.log(`\nGateway peak RSS: ${rss === undefined ? "n/a" : `${rss.toFixed(0)} MiB`}`)
  const pairs = (rows: ReadonlyArray<Row>) =>
    rows.flatMap((row, i) => (i % 2 === 0 ? [[row, rows[i + 1]!] as const] : []))
  const throughput = pairs(bench.saturation).every(([raw, gw]) => gw.requestsPerSecond / raw.requestsPerSecond >= 0.8)
  const latency = pairs(bench.fixedRate).every(([raw, gw]) => gw.p50 - raw.p50 < 2 && gw.p99 - raw.p99 < 5)
  const memory = rss === undefined || rss < 150
  const said = (met: boolean) => (met ? "met" : "NOT met")
  console.log(`Target >= 0.8x the raw proxy: ${said(throughput)}`)
  console.log(`Target < 2 ms added p50 and < 5 ms added p99 at the fixed rate: ${said(latency)}`)
  console.log(`Target RSS < 150 MiB: ${said(memory)}`)
}

if (import.meta.main) {
  const role = process.env.AI_BENCH_ROLE
  if (role === "upstream") listen(serveUpstream())
  else if (role === "proxy") listen(serveProxy(new URL(process.env.AI_BENCH_UPSTREAM!)))
  else reportAi(await runAiBench())
}
