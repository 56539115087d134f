import { Cause, type LogLevel } from "effect"
import { redact, redactString } from "./Redaction.ts"

/**
 * What every runtime's logger shares: the gateway's levels (`LOG_LEVEL`), their mapping to and from
 * Effect's, and one log call turned into a redacted message and fields.
 */
export type Level = "trace" | "debug" | "info" | "warn" | "error" | "fatal"

/** pino's numbers, so lines from the Node and Workers adapters feed the same tools. */
export const levelValues: Record<Level, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 }

export const fromEffectLevel: Record<LogLevel.LogLevel, Level | undefined> = {
  All: "trace",
  Trace: "trace",
  Debug: "debug",
  Info: "info",
  Warn: "warn",
  Error: "error",
  Fatal: "fatal",
  None: undefined
}

/** Effect's minimum log level for a `LOG_LEVEL`, so entries below it cost nothing. */
export const toEffectLevel: Record<Level, LogLevel.LogLevel> = {
  trace: "Trace",
  debug: "Debug",
  info: "Info",
  warn: "Warn",
  error: "Error",
  fatal: "Fatal"
}

/**
 * One Effect log call (a value or several) as a message and fields: strings join into the message,
 * objects merge into the fields, anything else goes to `data`; a cause is added pretty-printed.
 * Everything is redacted.
 */
export const fromEffect = (
  message: unknown,
  cause: Cause.Cause<unknown>
): { readonly msg: string; readonly fields: Record<string, unknown> } => {
  const parts = Array.isArray(message) ? message : [message]
  const texts: Array<string> = []
  const fields: Record<string, unknown> = {}
  for (const part of parts) {
    if (typeof part === "string") texts.push(part)
    else if (typeof part === "object" && part !== null && !Array.isArray(part)) Object.assign(fields, part)
    else fields.data = part
  }
  const redacted = redact(fields) as Record<string, unknown>
  if (cause.reasons.length > 0) redacted.cause = redactString(Cause.pretty(cause))
  return { msg: redactString(texts.join(" ")), fields: redacted }
}
