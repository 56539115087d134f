import { Edge, LogEntry } from "@lunarbit/gateway-core"
import { Layer, Logger, References } from "effect"
import pino from "pino"
import * as LineBatches from "./LineBatches.ts"

export type Level = LogEntry.Level
export type Format = "json" | "pretty"
export type Pino = pino.Logger

const levelNames: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL"
}

/** A human-readable line per entry for `LOG_FORMAT=pretty`: time, level, message, then the fields. */
const prettyLine = (line: string): string => {
  const { time, level, msg, pid: _pid, hostname: _hostname, ...fields } = JSON.parse(line) as Record<string, unknown>
  const rest = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ")
  const clock = new Date(Number(time)).toISOString().slice(11, 23)
  return `${clock} ${(levelNames[Number(level)] ?? "LOG").padEnd(5)} ${msg ?? ""}${rest ? ` ${rest}` : ""}\n`
}

export interface Destination {
  write(line: string): void
}

// Log lines are gathered into writes of up to 16 KiB rather than one system call per line (the
// access log writes a line per request); what is gathered is written every 100 ms and when the
// process exits. Not larger: under load, lines held longer outlive young-generation collections
// and are copied into the old generation (64 KiB batches: ~210 bytes promoted per AI request).
// Behind a reader slower than the server (a stalled pipe), lines beyond 16 MiB pending are dropped
// rather than held in memory without bound.
const bufferedStdout = (): Destination => {
  const batches = LineBatches.make({
    fd: 1,
    batchBytes: 16 * 1024,
    maxPendingBytes: 16 * 1024 * 1024,
    flushMs: 100
  })
  process.once("exit", () => {
    batches.close()
    batches.flushSync()
  })
  return batches
}

/**
 * A pino logger for the gateway (LunarCore LC-LOG): JSON lines by default, a readable line per
 * entry with `pretty`. Fields are redacted before they reach pino, so secrets never hit a sink.
 */
export const make = (options: {
  readonly level: Level
  readonly format: Format
  readonly destination?: Destination
}) => {
  const sink = options.destination ?? bufferedStdout()
  const destination = options.format === "pretty" ? { write: (line: string) => sink.write(prettyLine(line)) } : sink
  const logger = pino({ level: options.level, base: null, timestamp: pino.stdTimeFunctions.epochTime }, destination)
  ownLoggers.add(logger)
  return logger
}

// Loggers made by `make`: no base fields, serializers or hooks, so their lines are known exactly.
const ownLoggers = new WeakSet<pino.Logger>()

/**
 * The access log's writer. A line per request is the log's hottest path: for loggers made by
 * `make`, the line is written as pino writes it (`{"level":30,"time":…,…,"msg":"request"}`) from one
 * template, without pino's generic serialisation; any other logger gets `logger.info`.
 */
const accessLogOf = (logger: pino.Logger): ((entry: Edge.AccessLogEntry) => void) => {
  if (!ownLoggers.has(logger)) return (entry) => logger.info(entry, "request")
  const stream = (logger as unknown as Record<symbol, { write: (line: string) => void }>)[pino.symbols.streamSym]!
  return (entry) => {
    if (!logger.isLevelEnabled("info")) return
    const key = entry.key === undefined ? "" : `,"key":${JSON.stringify(entry.key)}`
    stream.write(
      `{"level":30,"time":${Date.now()},"request_id":${JSON.stringify(entry.request_id)},"method":${JSON.stringify(entry.method)},"path":${JSON.stringify(entry.path)},"status":${entry.status},"duration_ms":${entry.duration_ms}${key},"msg":"request"}\n`
    )
  }
}

/**
 * Routes Effect's logs and the gateway's access log to `logger`, and sets Effect's minimum log
 * level to the logger's, so entries below it cost nothing.
 */
export const layer = (logger: pino.Logger) => {
  const effectLogger = Logger.make(({ message, logLevel, cause }) => {
    const level = LogEntry.fromEffectLevel[logLevel]
    if (level === undefined) return
    const { msg, fields } = LogEntry.fromEffect(message, cause)
    logger[level](fields, msg)
  })
  return Layer.mergeAll(
    Logger.layer([effectLogger]),
    Layer.succeed(References.MinimumLogLevel, LogEntry.toEffectLevel[logger.level as Level] ?? "Info"),
    Layer.succeed(Edge.AccessLog, accessLogOf(logger))
  )
}
