import { type Edge, LogEntry } from "@lunarbit/gateway-core"
import { Logger } from "effect"

/** The gateway's log levels (`LOG_LEVEL`). */
export type Level = LogEntry.Level

const { levelValues } = LogEntry

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

/** Effect's minimum log level for a `LOG_LEVEL`, so entries below it cost nothing. */
export const minimumLogLevel = LogEntry.toEffectLevel

/** Effect's logs (the core logs unexpected faults) as the same JSON lines, secrets redacted. */
export const logger: Logger.Logger<unknown, void> = Logger.make(({ message, logLevel, cause }) => {
  const level = LogEntry.fromEffectLevel[logLevel]
  if (level === undefined) return
  const { msg, fields } = LogEntry.fromEffect(message, cause)
  write(level, msg, fields)
})
