import { type Edge, Redaction } from "@lunarbit/gateway-core"
import { Cause, Logger, type LogLevel } from "effect"

/** The gateway's log levels (`LOG_LEVEL`). */
export type Level = "trace" | "debug" | "info" | "warn" | "error" | "fatal"

// pino's numbers and field names, so lines from the Node and Workers adapters feed the same tools.
const levelValues: Record<Level, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 }

/**
 * Writes one JSON line, `{"level":30,"time":<epoch ms>,"msg":"...",...fields}`. Errors go to
 * `console.error` and warnings to `console.warn`, so Workers Logs shows their severity.
 */
export const write = (level: Level, msg: string, fields: object = {}): void => {
  const line = JSON.stringify({ level: levelValues[level], time: Date.now(), msg, ...fields })
  if (levelValues[level] >= levelValues.error) console.error(line)
  else if (level === "warn") console.warn(line)
  else console.log(line)
}

/** The access log: one `request` line per request, unless `LOG_LEVEL` is above `info`. */
export const accessLog = (minimum: Level): ((entry: Edge.AccessLogEntry) => void) =>
  levelValues[minimum] > levelValues.info ? () => {} : (entry) => write("info", "request", entry)

const fromEffectLevel: Partial<Record<LogLevel.LogLevel, Level>> = {
  All: "trace",
  Trace: "trace",
  Debug: "debug",
  Info: "info",
  Warn: "warn",
  Error: "error",
  Fatal: "fatal"
}

/** Effect's minimum log level for a `LOG_LEVEL`, so entries below it cost nothing. */
export const minimumLogLevel: Record<Level, LogLevel.LogLevel> = {
  trace: "Trace",
  debug: "Debug",
  info: "Info",
  warn: "Warn",
  error: "Error",
  fatal: "Fatal"
}

/** Effect's logs (the core logs unexpected faults) as the same JSON lines, secrets redacted. */
export const logger: Logger.Logger<unknown, void> = Logger.make(({ message, logLevel, cause }) => {
  const level = fromEffectLevel[logLevel]
  if (level === undefined) return
  const parts = Array.isArray(message) ? message : [message]
  const texts = parts.filter((part): part is string => typeof part === "string")
  const data = parts.filter((part) => typeof part !== "string")
  write(level, Redaction.redactString(texts.join(" ")), {
    ...(data.length > 0 ? { data: Redaction.redact(data.length === 1 ? data[0] : data) } : {}),
    ...(cause.reasons.length > 0 ? { cause: Redaction.redactString(Cause.pretty(cause)) } : {})
  })
})
