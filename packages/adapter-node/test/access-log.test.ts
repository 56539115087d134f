import { Edge } from "@lunarbit/gateway-core"
import { Context, Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import * as PinoLogger from "../src/PinoLogger.ts"

/** The access log's own line writer against pino's: the same lines, field for field and in order. */
const capture = (format: PinoLogger.Format) => {
  const lines: Array<string> = []
  const logger = PinoLogger.make({ level: "info", format, destination: { write: (line: string) => lines.push(line) } })
  const context = Effect.runSync(Layer.build(PinoLogger.layer(logger)).pipe(Effect.scoped))
  return { lines, logger, accessLog: Context.get(context, Edge.AccessLog) }
}

const entries: ReadonlyArray<Edge.AccessLogEntry> = [
  { request_id: "req_abc", method: "GET", path: "/projects/trackly", status: 200, duration_ms: 0.123, key: "reader" },
  { request_id: "req_def", method: "POST", path: '/odd/"quoted"/\\slash/é/\u2028', status: 404, duration_ms: 12 },
  { request_id: "req_ghi", method: "GET", path: "/health", status: 503, duration_ms: 1000.5 }
]

describe("the access log", () => {
  it.each(entries)("writes the line pino writes for $path", (entry) => {
    const { lines, logger, accessLog } = capture("json")
    accessLog(entry)
    logger.info(entry, "request")
    const [ours, pinos] = lines.map((line) => line.replace(/"time":\d+/, '"time":0'))
    expect(ours).toBe(pinos)
    expect(JSON.parse(ours!)).toMatchObject({ level: 30, msg: "request", ...entry })
  })

  it("writes nothing below its level, and pretty lines when asked", () => {
    const quiet: Array<string> = []
    const logger = PinoLogger.make({
      level: "warn",
      format: "json",
      destination: { write: (l: string) => quiet.push(l) }
    })
    Context.get(Effect.runSync(Layer.build(PinoLogger.layer(logger)).pipe(Effect.scoped)), Edge.AccessLog)(entries[0]!)
    expect(quiet).toEqual([])
    const { lines, accessLog } = capture("pretty")
    accessLog(entries[0]!)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain("/projects/trackly")
    expect(() => JSON.parse(lines[0]!)).toThrow()
  })
})
